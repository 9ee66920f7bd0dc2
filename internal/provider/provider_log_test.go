package provider

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// TestAPICallLoggerMasksSecrets: a configured secret never reaches the log,
// even where it shows up in a logged value, and the call is still logged.
func TestAPICallLoggerMasksSecrets(t *testing.T) {
	const secret = "tok-very-secret-123"
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(t.Context(), &buf)
	apiCallLogger([]string{secret})(ctx, "GET", "/v1/services?token="+secret, 200, 12*time.Millisecond, "req-1")
	out := buf.String()
	if strings.Contains(out, secret) {
		t.Fatalf("the secret was logged: %s", out)
	}
	for _, want := range []string{"Nimbus API call", `"@module":"provider.api"`, `"status":200`, "req-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %s: %s", want, out)
		}
	}
}

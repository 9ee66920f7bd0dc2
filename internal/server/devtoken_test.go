package server_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/server/command"
)

// TestDevTokenSurvivesRestart: `server --dev --data-dir D` keeps its token
// in D (mode 0600), so the export lines printed before a restart still work.
func TestDevTokenSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	exports := regexp.MustCompile(`export NIMBUS_ENDPOINT=(\S+)\nexport NIMBUS_TOKEN=(\S+)\n`)
	run := func() (endpoint, token, out string) {
		o, _, stop := runMain(t, "--dev", "--data-dir", dir, "--listen", "127.0.0.1:0")
		m := waitLog(t, o, exports)
		if st, body := get(t, m[1]+"/v1/tenants/demo/services", "Authorization", "Bearer "+m[2]); st != 200 {
			t.Fatalf("dev token: %d %s", st, body)
		}
		if rc := stop(); rc != 0 {
			t.Fatalf("exit %d", rc)
		}
		return m[1], m[2], o.String()
	}
	_, first, out := run()
	if !strings.Contains(out, command.DevTokenFileName) {
		t.Fatalf("dev mode does not say where the token is kept: %s", out)
	}
	fi, err := os.Stat(filepath.Join(dir, command.DevTokenFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	_, second, _ := run()
	if second != first {
		t.Fatalf("the dev token changed across a restart: %q, then %q", first, second)
	}
	// In memory, every start gets a new token and says so.
	o, _, stop := runMain(t, "--dev", "--listen", "127.0.0.1:0")
	m := waitLog(t, o, exports)
	stop()
	if m[2] == first || !strings.Contains(o.String(), "changes on every start") {
		t.Fatalf("in-memory dev mode: token %q, output %s", m[2], o.String())
	}
}

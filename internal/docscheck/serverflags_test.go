package docscheck

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/server/command"
)

// TestLocalServerGuideFlags fails when the local-server guide does not
// document a flag of `terraform-provider-nimbus server`, so the guide's flag
// table cannot fall behind the server.
func TestLocalServerGuideFlags(t *testing.T) {
	var usage bytes.Buffer
	if code := command.Main(t.Context(), []string{"-h"}, io.Discard, &usage); code != 0 {
		t.Fatalf("server -h exited %d:\n%s", code, usage.String())
	}
	flags := regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(usage.String(), -1)
	if len(flags) < 5 {
		t.Fatalf("found only %d flags in the server's usage:\n%s", len(flags), usage.String())
	}
	guide := readRoot(t, "templates", "guides", "local-server.md.tmpl")
	for _, f := range flags {
		if !strings.Contains(string(guide), "`--"+f[1]+"`") {
			t.Errorf("templates/guides/local-server.md.tmpl does not document the server flag --%s", f[1])
		}
	}
}

package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

// TestUsageNamesBuild: -h names the version and the commit injected with
// -ldflags "-X main.version=… -X main.commit=…".
func TestUsageNamesBuild(t *testing.T) {
	oldVersion, oldCommit, oldStderr := version, commit, os.Stderr
	t.Cleanup(func() { version, commit, os.Stderr = oldVersion, oldCommit, oldStderr })
	version, commit = "9.8.7-test", "0123abc"
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stderr = w
	code := servePlugin([]string{"-h"})
	os.Stderr = oldStderr
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || !strings.Contains(string(out), "terraform-provider-nimbus 9.8.7-test (commit 0123abc)") {
		t.Errorf("-h: exit %d, output %q", code, out)
	}
}

package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/command"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
)

// runMain starts command.Main and returns the exports it printed (dev mode)
// or the endpoint from its log, plus a stop function returning the exit code.
func runMain(t *testing.T, args ...string) (outBuf, logBuf *syncBuffer, stopFn func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, logs := &syncBuffer{}, &syncBuffer{}
	code := make(chan int, 1)
	go func() { code <- command.Main(ctx, args, out, logs) }()
	stopped := false
	var rc int
	stop := func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case rc = <-code:
			case <-time.After(20 * time.Second):
				t.Fatal("command.Main did not return after cancel")
			}
		}
		return rc
	}
	t.Cleanup(func() { stop() })
	return out, logs, stop
}

var endpointRe = regexp.MustCompile(`endpoint=(http://127\.0\.0\.1:\d+)`)

func waitLog(t *testing.T, b *syncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s in:\n%s", re, b.String())
	return nil
}

func get(t *testing.T, url string, hdr ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestMainDevMode(t *testing.T) {
	out, logs, stop := runMain(t, "--dev", "--listen", "127.0.0.1:0", "--log-level", "debug")
	m := waitLog(t, out, regexp.MustCompile(`export NIMBUS_ENDPOINT=(\S+)\nexport NIMBUS_TOKEN=(\S+)\nexport NIMBUS_TENANT_ID=demo`))
	endpoint, token := m[1], m[2]
	st, body := get(t, endpoint+"/v1/tenants", "Authorization", "Bearer "+token)
	if st != 200 || !strings.Contains(string(body), `"demo"`) {
		t.Fatalf("tenants: %d %s", st, body)
	}
	st, body = get(t, endpoint+"/v1/tenants/demo/services", "Authorization", "Bearer "+token)
	if st != 200 {
		t.Fatalf("services: %d %s", st, body)
	}
	if rc := stop(); rc != 0 {
		t.Fatalf("exit code %d; logs:\n%s", rc, logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Fatal("the dev token was logged")
	}
}

func TestMainConfigFileAndDataDir(t *testing.T) {
	dir := t.TempDir()
	cfg := command.FileConfig{Tenants: []string{"team-a"},
		Tokens:  []command.FileCredential{{Name: "ci", Secret: "cfg-token-secret", Tenants: []string{"*"}}},
		APIKeys: []command.FileCredential{{Name: "b-only", Secret: "cfg-key-secret", Tenants: []string{"team-b"}}}}
	b, _ := json.Marshal(cfg)
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	_, logs, stop := runMain(t, "--config", path, "--data-dir", data, "--listen", "127.0.0.1:0", "--token", "flag-token=team-a")
	endpoint := waitLog(t, logs, endpointRe)[1]
	if st, body := get(t, endpoint+"/v1/tenants/team-a/services", "Authorization", "Bearer cfg-token-secret"); st != 200 {
		t.Fatalf("config token: %d %s", st, body)
	}
	if st, _ := get(t, endpoint+"/v1/tenants/team-a/services", "Authorization", "Bearer flag-token"); st != 200 {
		t.Fatalf("flag token: %d", st)
	}
	if st, _ := get(t, endpoint+"/v1/tenants/team-a/services", api.HeaderAPIKey, "cfg-key-secret"); st != 403 {
		t.Fatalf("key bound to team-b used in team-a: %d", st)
	}
	if st, _ := get(t, endpoint+"/v1/tenants/team-b/services", api.HeaderAPIKey, "cfg-key-secret"); st != 200 {
		t.Fatalf("key in its tenant: %d", st)
	}
	if rc := stop(); rc != 0 {
		t.Fatalf("exit %d", rc)
	}
	if _, err := os.Stat(filepath.Join(data, store.BoltFileName)); err != nil {
		t.Fatalf("store file: %v", err)
	}
	for _, s := range []string{"cfg-token-secret", "cfg-key-secret", "flag-token"} {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("secret %q logged", s)
		}
	}
}

func TestMainBadInvocations(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--no-such-flag"}, 2, "no-such-flag"},
		{[]string{"--in-memory"}, 1, "no credentials"},
		{[]string{"--in-memory", "--token", "novalue"}, 2, "SECRET=TENANT"},
		{[]string{"--in-memory", "--token", "x=*", "--runtime", "vm"}, 1, "--runtime"},
		{[]string{"--in-memory", "--token", "x=*", "--log-level", "loud"}, 1, "--log-level"},
		{[]string{"--in-memory", "--token", "x=Bad_Tenant"}, 1, "tenant"},
		{[]string{"--in-memory", "--data-dir", "/tmp/x", "--token", "x=*"}, 1, "exclude"},
		{[]string{"--config", "/nonexistent/nimbus.json"}, 1, "--config"},
	} {
		var out, errb syncBuffer
		code := command.Main(t.Context(), c.args, &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q", c.args, code, c.code, errb.String())
		}
	}
}

// TestMainNeverPrintsSecretFlagValues: a malformed --token or --api-key is
// reported without its value.
func TestMainNeverPrintsSecretFlagValues(t *testing.T) {
	for _, args := range [][]string{
		{"--in-memory", "--token", "s3cr3t-token-value"},
		{"--in-memory", "--token", "s3cr3t-token-value="},
		{"--in-memory", "--api-key", "s3cr3t-token-value=a,,b"},
		{"--in-memory", "--token", "x=*", "--api-key", "s3cr3t-token-value"},
	} {
		var out, errb syncBuffer
		code := command.Main(t.Context(), args, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), "-"+strings.TrimPrefix(args[len(args)-2], "--")) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
		if strings.Contains(errb.String()+out.String(), "s3cr3t") {
			t.Errorf("%v: the secret is printed: %q", args, errb.String())
		}
	}
}

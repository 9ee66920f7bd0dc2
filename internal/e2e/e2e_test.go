package e2e

import (
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes/sandboxtest"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func TestMain(m *testing.M) {
	sandboxtest.Main() // returns at once unless this process is a sandbox helper child
	os.Exit(m.Run())
}

// Secret launch inputs; they must never come back from the server.
const (
	secretArg = "argv-s3cr3t-7f3a"
	secretEnv = "env-s3cr3t-91bc"
)

// sandboxImage, secretArgv and secretEnvVars launch the e2e tests'
// sandboxes (the simulated runtime never pulls the image).
const sandboxImage = "docker.io/library/node:22-alpine"

var (
	secretArgv    = []string{"node", "server.js", secretArg}
	secretEnvVars = map[string]string{"API_TOKEN": secretEnv}
)

// sandboxService is a sandbox-backed service launched with the secret
// inputs.
func sandboxService(name string, labels map[string]string) api.CreateServiceRequest {
	return testfixtures.SandboxService(name, sandboxImage, secretArgv, secretEnvVars, labels)
}

// standaloneSandbox is a standalone sandbox launched with the secret
// inputs.
func standaloneSandbox(labels map[string]string) api.CreateSandboxRequest {
	return testfixtures.StandaloneSandbox("batch-job", sandboxImage, secretArgv, secretEnvVars, labels)
}

func mustCreate(t *testing.T, c *client.Client, req api.CreateServiceRequest, opts ...client.CallOption) *api.Service {
	t.Helper()
	s, err := c.Services.Create(testfixtures.Context(t, time.Minute), req, opts...)
	if err != nil {
		t.Fatalf("create service %s: %v", req.Name, err)
	}
	return s
}

func mustStart(t *testing.T, c *client.Client, name string, opts ...client.CallOption) *api.Service {
	t.Helper()
	s, err := c.Services.Start(testfixtures.Context(t, time.Minute), name, client.ActionOptions{WaitUntil: api.WaitReady, Timeout: 10 * time.Second}, opts...)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return s
}

// raw sends an authenticated request and returns status and body.
func raw(t *testing.T, srv *testserver.Server, method, path string, body []byte) (int, []byte) {
	t.Helper()
	resp := srv.Do(t, method, path, body)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertNoSecrets(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, s := range []string{secretArg, secretEnv} {
		if strings.Contains(string(body), s) {
			t.Errorf("%s leaks a secret launch input: %s", what, body)
		}
	}
}

func wantCode(t *testing.T, err error, code string) *client.Error {
	t.Helper()
	e, ok := client.AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	if e.HTTPStatus != api.HTTPStatus(code) || e.RequestID == "" || e.Message == "" {
		t.Fatalf("%s: status %d (want %d), request id %q, message %q", code, e.HTTPStatus, api.HTTPStatus(code), e.RequestID, e.Message)
	}
	return e
}

func gen(g int64) *int64 { return &g }

// labels returns a present labels map for a PATCH (the API type is a
// pointer so that absent and empty differ).
func labels(m map[string]string) *map[string]string { return &m } //nolint:gocritic // the PATCH wire type is *map

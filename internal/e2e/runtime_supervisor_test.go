// End-to-end tests of the sandbox runtimes and the external health checker
// (formerly internal/server/runtime/e2etest): the Go client drives an
// in-process server over loopback, and the process runtime runs real child
// processes (internal/server/runtimes/sandboxtest).

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes/sandboxtest"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

const secretValue = "s3cr3t-e2e-value"

func rtClient(t *testing.T, srv *testserver.Server) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{
		Endpoint: srv.URL, TenantID: srv.Tenant, Token: srv.Token,
		Getenv: func(string) string { return "" }, HomeDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func processServer(t *testing.T) (*testserver.Server, *client.Client) {
	t.Helper()
	srv := testserver.Start(t, func(o *testserver.Options) { o.Runtime = "process" })
	return srv, rtClient(t, srv)
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func rtSandboxSpec(t *testing.T, owner api.Owner, mode string, env map[string]string) *api.SandboxSpec {
	t.Helper()
	argv, base := sandboxtest.Command(t, mode)
	for k, v := range env {
		base[k] = v
	}
	return &api.SandboxSpec{
		Owner: owner, Backend: api.RuntimeContainer,
		Root:    api.Root{Kind: api.RootKindOCIImage, Source: api.RootSource{Kind: api.SourceKindReference, Reference: "example.com/helper:1"}},
		Process: api.Process{Argv: api.RedactableList{Values: argv}, Environment: api.RedactableMap{Values: base}},
	}
}

// noSecrets fails when v, as JSON, shows the sandbox's argv or environment.
func noSecrets(t *testing.T, what string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secretValue, exe, sandboxtest.ModeVar} {
		if strings.Contains(string(b), s) {
			t.Fatalf("%s shows a secret launch input (%q): %s", what, s, b)
		}
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, url, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// A sandbox-backed service on the process runtime runs argv as a real
// process with its environment and PORT, is ready once PORT accepts
// connections, owns a sandbox visible in listings, and stops for real.
func TestProcessServiceRunsRealChild(t *testing.T) {
	_, c := processServer(t)
	ctx := ctxFor(t)
	created, err := c.Services.Create(ctx, api.CreateServiceRequest{Name: "web", Backend: api.Backend{
		Kind:    api.BackendKindSandbox,
		Sandbox: rtSandboxSpec(t, api.Owner{Kind: api.OwnerKindService, ServiceName: "web"}, sandboxtest.Listen, map[string]string{"API_TOKEN": secretValue}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "the create response", created)
	svc, err := c.Services.Start(ctx, "web", client.ActionOptions{WaitUntil: "ready", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "the start response", svc)
	if len(svc.Status.Endpoints) != 1 || !strings.HasPrefix(svc.Status.Endpoints[0].URL, "http://127.0.0.1:") {
		t.Fatalf("want one loopback endpoint, got %+v", svc.Status.Endpoints)
	}
	base := svc.Status.Endpoints[0].URL
	if code, body := httpGet(t, base+"/env?name=API_TOKEN"); code != http.StatusOK || body != secretValue {
		t.Fatalf("the process did not get its environment: %d %q", code, body)
	}
	if code, port := httpGet(t, base+"/env?name=PORT"); code != http.StatusOK || !strings.HasSuffix(base, ":"+port) {
		t.Fatalf("PORT %q does not match the endpoint %s", port, base)
	}

	sb, err := c.Sandboxes.Get(ctx, svc.Status.SandboxID)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Status.LifecycleState != api.SandboxRunning || sb.Spec.Owner.Kind != api.OwnerKindService || sb.Spec.Owner.ServiceName != "web" {
		t.Fatalf("want the running owned sandbox, got %+v", sb)
	}
	list, err := c.Sandboxes.List(ctx, client.ListSandboxesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range list.Items {
		found = found || s.Metadata.ID == sb.Metadata.ID
	}
	if !found {
		t.Fatalf("the owned sandbox %s is not in the sandbox listing", sb.Metadata.ID)
	}
	noSecrets(t, "the sandbox listing", list)

	if _, err := c.Services.Stop(ctx, "web", client.ActionOptions{WaitUntil: "stopped", Timeout: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(base, "http://")
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = conn.Close()
		t.Fatalf("the process still listens on %s after the service stopped", addr)
	}
}

// A standalone sandbox whose process exits non-zero goes failed with that
// exit code; waiting for it to run ends at once with the failure.
func TestProcessSandboxExitNonZeroFails(t *testing.T) {
	_, c := processServer(t)
	ctx := ctxFor(t)
	spec := rtSandboxSpec(t, api.Owner{Kind: api.OwnerKindStandalone, DisplayName: "exits"}, sandboxtest.Exit,
		map[string]string{sandboxtest.ExitCodeVar: "7", "API_TOKEN": secretValue})
	sb, err := c.Sandboxes.Create(ctx, api.CreateSandboxRequest{Profile: api.ProfileWorker, Spec: *spec})
	if err != nil {
		t.Fatal(err)
	}
	_, waitErr := c.Sandboxes.Wait(ctx, sb.Metadata.ID, client.WaitOptions{Until: "running", Timeout: 30 * time.Second})
	var we *client.WaitError
	if !errors.As(waitErr, &we) || !we.Failed {
		t.Fatalf("want a failed-state WaitError, got %v", waitErr)
	}
	got, err := c.Sandboxes.Get(ctx, sb.Metadata.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.LifecycleState != api.SandboxFailed || got.Status.ExitCode == nil || *got.Status.ExitCode != 7 {
		t.Fatalf("want failed with exit code 7, got %+v", got.Status)
	}
	if !strings.Contains(got.Status.Message, "exited with code 7") {
		t.Fatalf("the status message does not say how it failed: %q", got.Status.Message)
	}
	noSecrets(t, "the failed sandbox", got)
	noSecrets(t, "the wait error", waitErr.Error())
}

// A service whose process dies after it was running goes failed.
func TestProcessServiceDiesAfterRunning(t *testing.T) {
	_, c := processServer(t)
	ctx := ctxFor(t)
	if _, err := c.Services.Create(ctx, api.CreateServiceRequest{Name: "flaky", Backend: api.Backend{
		Kind: api.BackendKindSandbox,
		Sandbox: rtSandboxSpec(t, api.Owner{Kind: api.OwnerKindService, ServiceName: "flaky"}, sandboxtest.ListenThenExit,
			map[string]string{sandboxtest.ExitCodeVar: "3", sandboxtest.ExitAfterVar: "300ms"}),
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Services.Start(ctx, "flaky", client.ActionOptions{}); err != nil {
		t.Fatal(err)
	}
	// The service never reaches stopped: it fails, which ends the wait.
	_, err := c.Services.Wait(ctx, "flaky", client.WaitOptions{Until: "stopped", Timeout: 30 * time.Second})
	var we *client.WaitError
	if !errors.As(err, &we) || !we.Failed {
		t.Fatalf("want a failed-state WaitError, got %v", err)
	}
	svc, err := c.Services.Get(ctx, "flaky")
	if err != nil {
		t.Fatal(err)
	}
	if svc.Status.LifecycleState != api.ServiceFailed || !strings.Contains(svc.Status.Message, "code 3") {
		t.Fatalf("want failed naming exit code 3, got %+v", svc.Status)
	}
	sb, err := c.Sandboxes.Get(ctx, svc.Status.SandboxID)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Status.ExitCode == nil || *sb.Status.ExitCode != 3 {
		t.Fatalf("want the sandbox's exit code 3, got %+v", sb.Status)
	}
}

// An external service is really health-checked over HTTP with its bearer
// token: it turns healthy, then unhealthy when the endpoint answers 503.
func TestExternalServiceHealthChecks(t *testing.T) {
	var healthy atomic.Bool
	var sawAuth atomic.Value
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("Authorization"))
		if r.URL.Path != "/healthz" || !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(backend.Close)
	srv := testserver.Start(t)
	c := rtClient(t, srv)
	ctx := ctxFor(t)
	if _, err := c.Services.Create(ctx, api.CreateServiceRequest{Name: "ext", Backend: api.Backend{
		Kind:     api.BackendKindExternal,
		Endpoint: &api.ExternalEndpoint{URL: backend.URL},
		Auth:     &api.ExternalAuth{Kind: api.AuthKindBearer, Token: &api.Secret{Value: secretValue}},
		Health:   &api.HealthCheck{Kind: api.HealthKindHTTP, Path: "/healthz"},
	}}); err != nil {
		t.Fatal(err)
	}
	healthy.Store(true)
	svc, err := c.Services.Start(ctx, "ext", client.ActionOptions{WaitUntil: "healthy", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if sawAuth.Load() != "Bearer "+secretValue {
		t.Fatalf("the health check did not send the bearer token: %v", sawAuth.Load())
	}
	noSecrets(t, "the service", svc)

	healthy.Store(false)
	deadline := time.Now().Add(20 * time.Second)
	for {
		svc, err = c.Services.Get(ctx, "ext")
		if err != nil {
			t.Fatal(err)
		}
		if svc.Status.Health == api.HealthUnhealthy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never turned unhealthy: %+v", svc.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(svc.Status.Message, "HTTP 503") {
		t.Fatalf("the status message does not say why: %q", svc.Status.Message)
	}
	noSecrets(t, "the unhealthy service", svc)
}

package e2e

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes/sandboxtest"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func processSandbox(t *testing.T, mode string, extraEnv map[string]string) api.CreateSandboxRequest {
	argv, env := sandboxtest.Command(t, mode)
	for k, v := range extraEnv {
		env[k] = v
	}
	req := standaloneSandbox(map[string]string{"mode": mode})
	req.Spec.Process = api.Process{Argv: api.RedactableList{Values: argv}, Environment: api.RedactableMap{Values: env}}
	return req
}

// TestProcessRuntime runs real child processes: one listens on PORT and is
// reachable at its endpoint; one exits non-zero and fails the wait at once.
func TestProcessRuntime(t *testing.T) {
	srv := testserver.Start(t, func(o *testserver.Options) { o.Runtime = "process" })
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)

	sb, err := c.Sandboxes.Create(ctx, processSandbox(t, sandboxtest.Listen, map[string]string{"GREETING": secretEnv}))
	if err != nil {
		t.Fatal(err)
	}
	sb, err = c.Sandboxes.Wait(ctx, sb.Metadata.ID, client.WaitOptions{Until: api.WaitRunning, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(sb.Status.Endpoints) == 0 {
		t.Fatalf("no endpoint: %+v", sb.Status)
	}
	// The real child answers on its endpoint and got its environment.
	resp, err := http.Get(sb.Status.Endpoints[0].URL + "/env?name=GREETING")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != secretEnv {
		t.Fatalf("child answered %d %q", resp.StatusCode, body)
	}
	stopped, err := c.Sandboxes.Stop(ctx, sb.Metadata.ID, client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 20 * time.Second})
	if err != nil || stopped.Status.LifecycleState != api.SandboxStopped {
		t.Fatalf("stop: %+v %v", stopped, err)
	}
	if _, err := http.Get(sb.Status.Endpoints[0].URL); err == nil {
		t.Fatalf("the child still listens after stop")
	}

	// A process that exits with code 7 fails the wait at once with the code.
	bad, err := c.Sandboxes.Create(ctx, processSandbox(t, sandboxtest.Exit, map[string]string{sandboxtest.ExitCodeVar: "7"}))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Sandboxes.Wait(ctx, bad.Metadata.ID, client.WaitOptions{Until: api.WaitRunning, Timeout: 20 * time.Second})
	var we *client.WaitError
	if !client.IsWaitFailed(err) || !asWait(err, &we) || time.Since(start) > 10*time.Second {
		t.Fatalf("want a failed wait, got %v after %s", err, time.Since(start))
	}
	last := we.Last.(*api.Sandbox)
	if last.Status.ExitCode == nil || *last.Status.ExitCode != 7 || !strings.Contains(err.Error(), "7") {
		t.Fatalf("exit code not reported: %+v / %v", last.Status, err)
	}
	assertNoSecrets(t, "wait error", []byte(err.Error()))

	// A sandbox-backed service runs on the process runtime too.
	argv, env := sandboxtest.Command(t, sandboxtest.Listen)
	req := sandboxService("proc", nil)
	req.Backend.Sandbox.Process = api.Process{Argv: api.RedactableList{Values: argv}, Environment: api.RedactableMap{Values: env}}
	mustCreate(t, c, req)
	svc := mustStart(t, c, "proc")
	if len(svc.Status.Endpoints) == 0 {
		t.Fatalf("service endpoints: %+v", svc.Status)
	}
	if _, err := c.Services.Stop(ctx, "proc", client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
}

func asWait(err error, we **client.WaitError) bool {
	return errors.As(err, we)
}

// TestExternalServiceHealth: an external service is really health-checked
// and goes healthy and unhealthy with a loopback HTTP server.
func TestExternalServiceHealth(t *testing.T) {
	var healthy atomic.Bool
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(404)
			return
		}
		hits.Add(1)
		if healthy.Load() {
			w.WriteHeader(204)
			return
		}
		w.WriteHeader(503)
	}))
	defer up.Close()
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	mustCreate(t, c, api.CreateServiceRequest{Name: "search", Backend: api.Backend{
		Kind: api.BackendKindExternal, Endpoint: &api.ExternalEndpoint{URL: up.URL},
		Auth: &api.ExternalAuth{Kind: api.AuthKindNone}, Health: &api.HealthCheck{Kind: api.HealthKindHTTP, Path: "/healthz"},
	}})
	// Unhealthy upstream: a healthy wait times out with the last status.
	_, err := c.Services.Start(ctx, "search", client.ActionOptions{WaitUntil: api.WaitHealthy, Timeout: 500 * time.Millisecond})
	if !client.IsWaitTimeout(err) || !strings.Contains(err.Error(), "health unhealthy") {
		t.Fatalf("want a timeout naming health unhealthy, got %v", err)
	}
	healthy.Store(true)
	s, err := c.Services.Wait(ctx, "search", client.WaitOptions{Until: api.WaitHealthy, Timeout: 10 * time.Second})
	if err != nil || s.Status.Health != api.HealthHealthy {
		t.Fatalf("healthy: %+v %v", s, err)
	}
	healthy.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for s.Status.Health != api.HealthUnhealthy && time.Now().Before(deadline) {
		s, err = c.Services.Get(ctx, "search", client.ChangedSince(s.Metadata.ResourceVersion, 5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.Status.Health != api.HealthUnhealthy {
		t.Fatalf("never went unhealthy: %+v", s.Status)
	}
	if hits.Load() < 3 {
		t.Fatalf("upstream checked %d times", hits.Load())
	}
	// Stopped: the server stops checking.
	if _, err := c.Services.Stop(ctx, "search", client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	n := hits.Load()
	time.Sleep(300 * time.Millisecond)
	if hits.Load() > n+1 {
		t.Fatalf("a stopped external service is still checked (%d → %d)", n, hits.Load())
	}
}

// TestPersistenceAcrossRestart: data survives a store close and reopen, and
// services that were running are running again.
func TestPersistenceAcrossRestart(t *testing.T) {
	srv := testserver.Start(t, testserver.WithDataDir(t.TempDir()), testserver.WithTenants("acc", "other"))
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	mustCreate(t, c, sandboxService("keep", map[string]string{"k": "v"}))
	mustStart(t, c, "keep")
	mustCreate(t, c, testfixtures.BuiltInService("idle", api.ProviderBrowser, nil), client.InTenant("other"))
	upd, err := c.Services.Update(ctx, "keep", api.UpdateServiceRequest{Labels: labels(map[string]string{"k": "w"}), IfMatchGeneration: gen(1)})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := c.Sandboxes.Create(ctx, standaloneSandbox(map[string]string{"p": "q"}))
	if err != nil {
		t.Fatal(err)
	}
	ses, err := c.Sessions.Open(ctx, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "keep"}}, Channels: []string{api.ChannelStdio}})
	if err != nil {
		t.Fatal(err)
	}

	srv.Restart(t)
	c = testfixtures.ServerClient(t, srv)

	got, err := c.Services.Get(ctx, "keep")
	if err != nil || got.Metadata.Generation != upd.Metadata.Generation || got.Metadata.Labels["k"] != "w" ||
		!got.Metadata.CreatedAt.Equal(upd.Metadata.CreatedAt) {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	if got.Spec.Backend.Sandbox == nil || got.Spec.Backend.Sandbox.Process.Argv.Len() != 3 {
		t.Fatalf("backend lost: %+v", got.Spec.Backend)
	}
	if _, err := c.Services.Wait(ctx, "keep", client.WaitOptions{Until: api.WaitReady, Timeout: 10 * time.Second}); err != nil {
		t.Fatalf("running service not running again: %v", err)
	}
	if idle, err := c.Services.Get(ctx, "idle", client.InTenant("other")); err != nil || idle.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("stopped service: %+v %v", idle, err)
	}
	if s, err := c.Sandboxes.Get(ctx, sb.Metadata.ID); err != nil || s.Metadata.Labels["p"] != "q" {
		t.Fatalf("sandbox: %+v %v", s, err)
	}
	if s, err := c.Sessions.Get(ctx, ses.Metadata.ID); err != nil || s.Spec.TargetSnapshot.Name != "keep" {
		t.Fatalf("session: %+v %v", s, err)
	}
	// Generation checks keep working on reloaded data, and resourceVersions
	// never go backwards into values already handed out.
	after, err := c.Services.Update(ctx, "keep", api.UpdateServiceRequest{Labels: labels(map[string]string{"k": "x"}), IfMatchGeneration: gen(upd.Metadata.Generation)})
	if err != nil || after.Metadata.Generation != upd.Metadata.Generation+1 || after.Metadata.ResourceVersion == upd.Metadata.ResourceVersion {
		t.Fatalf("update after restart: %+v %v", after, err)
	}
}

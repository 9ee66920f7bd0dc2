package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func TestBoltStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	st, err := server.OpenBoltStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ { // concurrent writers share commits (Batch)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.Put("services", "acc", fmt.Sprintf("svc-%02d", i), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := st.Delete("services", "acc", "svc-07"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = server.OpenBoltStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var keys []string
	if err := st.Scan("services", store.Range{}, func(tenant, key string, data []byte) error {
		if tenant != "acc" || !strings.HasPrefix(string(data), `{"n":`) {
			t.Errorf("loaded %s/%s = %s", tenant, key, data)
		}
		keys = append(keys, key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 49 || keys[0] != "svc-00" || keys[48] != "svc-49" {
		t.Fatalf("reloaded %d keys: %v", len(keys), keys)
	}
	// A second server cannot open the same data directory.
	if _, err := server.OpenBoltStore(dir); err == nil {
		t.Fatal("second open of a locked store succeeded")
	}
}

func TestRestartResumesRunningServices(t *testing.T) {
	srv := testserver.Start(t, testserver.WithDataDir(t.TempDir()))
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	mustCreate(t, srv, builtInService("lb", map[string]string{"k": "v"}))
	mustCreate(t, srv, builtInService("idle", nil))
	do(t, srv, "POST", tp+"/services/api/start", nil)
	do(t, srv, "POST", tp+"/services/lb/start", nil)
	before := waitService(t, srv, "api", readyOn(1))
	waitService(t, srv, "lb", readyOn(1))
	sb := mustCreateSandbox(t, srv, standaloneSandbox("registry.example/job:1"))
	waitSandbox(t, srv, sb.Metadata.ID, sbxState(api.SandboxRunning))
	ses := openSession(t, srv, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "lb"}}, Channels: []string{"stdio"}})

	srv.Restart(t)

	after := waitService(t, srv, "api", readyOn(1))
	if after.Status.SandboxID != before.Status.SandboxID || after.Metadata.Generation != 1 {
		t.Fatalf("after restart: %+v", after)
	}
	if lb := waitService(t, srv, "lb", readyOn(1)); lb.Metadata.Labels["k"] != "v" {
		t.Fatalf("labels lost: %+v", lb.Metadata)
	}
	if idle := getService(t, srv, "idle"); idle.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("a stopped service must stay stopped: %s", idle.Status.LifecycleState)
	}
	waitSandbox(t, srv, sb.Metadata.ID, sbxState(api.SandboxRunning))
	if got := getSession(t, srv, ses.Metadata.ID); got.Status.LifecycleState != api.SessionOpen || !got.Spec.ExpiresAt.Equal(ses.Spec.ExpiresAt) {
		t.Fatalf("session after restart: %+v", got)
	}
	// resourceVersions keep changing across restarts.
	r := do(t, srv, "PATCH", tp+"/services/idle", map[string]any{"labels": map[string]string{"a": "b"}, "ifMatchGeneration": 1})
	var u api.Service
	r.into(t, &u)
	if u.Metadata.Generation != 2 {
		t.Fatalf("update after restart: %s", r.body)
	}
	// A stopped service stays stopped after another restart.
	do(t, srv, "POST", tp+"/services/lb/stop", nil)
	waitService(t, srv, "lb", stateIs(api.ServiceStopped))
	srv.Restart(t)
	if lb := getService(t, srv, "lb"); lb.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("stopped service restarted: %s", lb.Status.LifecycleState)
	}
}

func TestSecretsNeverInResponsesOrLogs(t *testing.T) {
	logs := &syncBuffer{}
	srv := testserver.Start(t, func(o *testserver.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	secrets := []string{"argv-secret-value", "env-secret-value", "ext-secret-token", srv.Token, srv.APIKey}
	check := func(what string, b []byte) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Fatalf("%s contains secret %q: %s", what, s, b)
			}
		}
	}
	r := do(t, srv, "POST", tp+"/services", sandboxService("api", "registry.example/api:1"))
	check("create service", r.body)
	var s api.Service
	r.into(t, &s)
	p := s.Spec.Backend.Sandbox.Process
	if !p.Argv.Redacted || p.Argv.Count != 2 || !p.Environment.Redacted || p.Environment.Count != 1 {
		t.Fatalf("process not redacted: %s", r.body)
	}
	r = do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("registry.example/job:1"))
	check("create sandbox", r.body)
	var sb api.Sandbox
	r.into(t, &sb)
	ext := api.CreateServiceRequest{Name: "ext", Backend: api.Backend{Kind: api.BackendKindExternal,
		Endpoint: &api.ExternalEndpoint{URL: "http://127.0.0.1:1"},
		Auth:     &api.ExternalAuth{Kind: api.AuthKindBearer, Token: &api.Secret{Value: "ext-secret-token"}}}}
	check("create external", do(t, srv, "POST", tp+"/services", ext).body)
	check("start", do(t, srv, "POST", tp+"/services/api/start", nil).body)
	waitService(t, srv, "api", readyOn(1))
	check("get service", do(t, srv, "GET", tp+"/services/api", nil).body)
	check("get sandbox", do(t, srv, "GET", tp+"/sandboxes/"+sb.Metadata.ID, nil).body)
	check("list services", do(t, srv, "GET", tp+"/services", nil).body)
	check("list sandboxes", do(t, srv, "GET", tp+"/sandboxes", nil).body)
	b := sandboxService("api", "registry.example/api:2").Backend
	check("patch", do(t, srv, "PATCH", tp+"/services/api", api.UpdateServiceRequest{Backend: &b, IfMatchGeneration: ptr(int64(1))}).body)
	check("error", do(t, srv, "POST", tp+"/services", sandboxService("api", "x")).body)
	waitService(t, srv, "api", readyOn(2))
	do(t, srv, "GET", tp+"/services", nil, noAuth(), withHeader(api.HeaderAPIKey, srv.APIKey))
	do(t, srv, "GET", tp+"/services", nil, withHeader("Authorization", "Bearer wrong-secret-token"))
	secrets = append(secrets, "wrong-secret-token")
	out := logs.String()
	if !strings.Contains(out, "sandbox starting") || !strings.Contains(out, "status=201") {
		t.Fatalf("expected request and supervisor logs, got:\n%s", out)
	}
	check("logs", []byte(out))
}

// A write the server answered with 2xx survives kill -9 of the server.
func TestWritesSurviveKill9(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "NIMBUS_TEST_HELPER=server",
		"NIMBUS_TEST_ARGS=--listen 127.0.0.1:0 --data-dir "+dir+" --token kill-token=acc --log-format json")
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	endpoint := waitLog(t, logs, regexp.MustCompile(`"endpoint":"(http://127\.0\.0\.1:\d+)"`))[1]
	var created []string
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("svc-%02d", i)
		req, err := http.NewRequestWithContext(t.Context(), "POST", endpoint+"/v1/tenants/acc/services",
			strings.NewReader(fmt.Sprintf(`{"name":%q,"backend":{"kind":"builtIn","provider":"browser"}}`, name)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer kill-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("create %s: %d", name, resp.StatusCode)
		}
		created = append(created, name)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	st, err := server.OpenBoltStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	found := map[string]bool{}
	if err := st.Scan("services", store.Range{}, func(tenant, key string, data []byte) error { found[key] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, n := range created {
		if !found[n] {
			t.Fatalf("service %s answered 201 but is gone after kill -9", n)
		}
	}
}

func TestPageTokenOutlivesRestart(t *testing.T) {
	srv := testserver.Start(t, testserver.WithDataDir(t.TempDir()))
	for i := 0; i < 5; i++ {
		mustCreate(t, srv, builtInService(fmt.Sprintf("s-%d", i), nil))
	}
	var page api.ServiceList
	do(t, srv, "GET", tp+"/services?limit=2", nil).into(t, &page)
	srv.Restart(t)
	var next api.ServiceList
	r := do(t, srv, "GET", tp+"/services?limit=2&pageToken="+page.Metadata.NextPageToken, nil)
	expect(t, r, 200, "")
	r.into(t, &next)
	if len(next.Items) != 2 || next.Items[0].Metadata.Name != "s-2" {
		t.Fatalf("page after restart: %s", r.body)
	}
}

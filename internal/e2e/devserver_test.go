package e2e

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/command"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var exportRe = regexp.MustCompile(`(?m)^export (NIMBUS_[A-Z_]+)=(\S+)$`)

// TestSDKGuideAgainstDevServer runs `server --dev`, configures the client
// only from the export lines it prints (as a user pasting them would), and
// walks the SDK guide's operations.
func TestSDKGuideAgainstDevServer(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	out, logs := &lockedBuffer{}, &lockedBuffer{}
	code := make(chan int, 1)
	go func() { code <- command.Main(ctx, []string{"--dev", "--listen", "127.0.0.1:0"}, out, logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case rc := <-code:
			if rc != 0 {
				t.Errorf("server exit code %d; logs:\n%s", rc, logs.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
	})
	env := map[string]string{}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && (env[client.EnvEndpoint] == "" || env[client.EnvToken] == "" || env[client.EnvTenantID] == "") {
		for _, m := range exportRe.FindAllStringSubmatch(out.String(), -1) {
			env[m[1]] = strings.Trim(m[2], `'"`)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if env[client.EnvEndpoint] == "" || env[client.EnvToken] == "" || env[client.EnvTenantID] == "" {
		t.Fatalf("no export lines in:\n%s", out.String())
	}
	c := testfixtures.Client(t, client.Config{Getenv: testfixtures.Env(env)})
	if s := c.Settings(); s.TenantID != "demo" || s.CredentialKind != client.CredentialToken {
		t.Fatalf("settings: %+v", s)
	}
	tctx := testfixtures.Context(t, time.Minute)

	// 1. Create a service backed by a sandbox image.
	created, err := c.Services.Create(tctx, sandboxService("worker", map[string]string{"team": "search"}))
	if err != nil || created.Metadata.Generation != 1 || created.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("create: %+v %v", created, err)
	}
	// The other two backend kinds.
	if _, err := c.Services.Create(tctx, testfixtures.BuiltInService("browser", api.ProviderBrowser, nil)); err != nil {
		t.Fatal(err)
	}
	// 2. Start and wait.
	svc, err := c.Services.Start(tctx, "worker", client.ActionOptions{WaitUntil: api.WaitReady})
	if err != nil || !client.ServiceReady(svc) {
		t.Fatalf("start: %+v %v", svc, err)
	}
	if _, err := c.Services.Wait(tctx, "worker", client.WaitOptions{Until: api.WaitHealthy, Timeout: 60 * time.Second, Interval: 500 * time.Millisecond}); err != nil {
		t.Fatalf("wait healthy: %v", err)
	}
	// 3. Update and delete with generation checks.
	current, err := c.Services.Get(tctx, "worker")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Services.Update(tctx, "worker", api.UpdateServiceRequest{Backend: &api.Backend{Kind: api.BackendKindBuiltIn, Provider: api.ProviderLoadBalancer}, IfMatchGeneration: gen(current.Metadata.Generation)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Services.Update(tctx, "worker", api.UpdateServiceRequest{Labels: labels(map[string]string{}), IfMatchGeneration: gen(current.Metadata.Generation)})
	wantCode(t, err, api.CodePreconditionFailed)
	// 4. List with pagination.
	page, err := c.Services.List(tctx, client.ListServicesOptions{Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Metadata.NextPageToken == "" {
		t.Fatalf("list: %+v %v", page, err)
	}
	// 5. Sandboxes on their own.
	sb, err := c.Sandboxes.Create(tctx, standaloneSandbox(map[string]string{"purpose": "batch"}))
	if err != nil {
		t.Fatal(err)
	}
	running, err := c.Sandboxes.Wait(tctx, sb.Metadata.ID, client.WaitOptions{Until: api.WaitRunning})
	if err != nil || len(running.Status.Endpoints) == 0 {
		t.Fatalf("sandbox: %+v %v", running, err)
	}
	batch, err := c.Sandboxes.List(tctx, client.ListSandboxesOptions{LabelKey: "purpose", LabelValue: "batch"})
	if err != nil || len(batch.Items) != 1 || !batch.Items[0].Spec.Process.Argv.Redacted {
		t.Fatalf("sandbox list: %+v %v", batch, err)
	}
	// 6. Sessions.
	ses, err := c.Sessions.Open(tctx, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "worker"}}, Channels: []string{api.ChannelStdio}, RequestedTTLMs: 10 * 60 * 1000})
	if err != nil || ses.Spec.TargetSnapshot.Name != "worker" {
		t.Fatalf("open: %+v %v", ses, err)
	}
	open, err := c.Sessions.List(tctx, client.ListSessionsOptions{State: api.SessionOpen})
	if err != nil || len(open.Items) != 1 {
		t.Fatalf("open sessions: %+v %v", open, err)
	}
	if _, err := c.Sessions.Close(tctx, ses.Metadata.ID, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sandboxes.Stop(tctx, sb.Metadata.ID, client.ActionOptions{WaitUntil: api.WaitStopped}); err != nil {
		t.Fatal(err)
	}
	// Delete the still-running service: needs force and the current generation.
	latest, err := c.Services.Get(tctx, "worker")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Services.Delete(tctx, "worker", client.DeleteOptions{IfMatchGeneration: latest.Metadata.Generation})
	wantCode(t, err, api.CodeConflict)
	if err := c.Services.Delete(tctx, "worker", client.DeleteOptions{IfMatchGeneration: latest.Metadata.Generation, Force: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), env[client.EnvToken]) || strings.Contains(logs.String(), secretArg) || strings.Contains(logs.String(), secretEnv) {
		t.Fatal("the server logged a secret")
	}
}

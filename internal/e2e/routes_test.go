package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestEveryRoute walks every route of the contract through the client.
func TestEveryRoute(t *testing.T) {
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)

	// GET /v1/tenants
	tl, err := c.Tenants(ctx)
	if err != nil || len(tl.Items) != 1 || tl.Items[0].ID != "acc" {
		t.Fatalf("tenants: %+v %v", tl, err)
	}

	// POST services → 201
	created := mustCreate(t, c, sandboxService("worker", map[string]string{"team": "search"}))
	if created.Metadata.Generation != 1 || created.Status.LifecycleState != api.ServiceStopped || created.Metadata.TenantID != "acc" {
		t.Fatalf("created: %+v", created)
	}
	// GET services/{name}
	got, err := c.Services.Get(ctx, "worker")
	if err != nil || got.Metadata.ResourceVersion != created.Metadata.ResourceVersion {
		t.Fatalf("get: %+v %v", got, err)
	}
	// GET services (list)
	l, err := c.Services.List(ctx, client.ListServicesOptions{Limit: 20})
	if err != nil || len(l.Items) != 1 || l.Metadata.NextPageToken != "" {
		t.Fatalf("list: %+v %v", l, err)
	}
	// POST start with waitUntil ready
	running := mustStart(t, c, "worker")
	if !client.ServiceReady(running) || len(running.Status.Endpoints) == 0 || running.Status.SandboxID == "" {
		t.Fatalf("started: %+v", running.Status)
	}
	// start of a running service is a no-op (200)
	again, err := c.Services.Start(ctx, "worker", client.ActionOptions{})
	if err != nil || again.Status.LifecycleState != api.ServiceRunning {
		t.Fatalf("start no-op: %+v %v", again, err)
	}
	// The owned sandbox is visible in sandbox listings.
	owned, err := c.Sandboxes.Get(ctx, running.Status.SandboxID)
	if err != nil || owned.Spec.Owner.Kind != api.OwnerKindService || owned.Spec.Owner.ServiceName != "worker" {
		t.Fatalf("owned sandbox: %+v %v", owned, err)
	}
	// POST restart with waitUntil healthy
	restarted, err := c.Services.Restart(ctx, "worker", client.ActionOptions{WaitUntil: api.WaitHealthy, Timeout: 10 * time.Second})
	if err != nil || !client.ServiceHealthy(restarted) {
		t.Fatalf("restart: %+v %v", restarted, err)
	}
	// Sessions: open / get / list / close on the running service.
	ses, err := c.Sessions.Open(ctx, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "worker"}}, Channels: []string{api.ChannelStdio}, RequestedTTLMs: 600000})
	if err != nil || ses.Status.LifecycleState != api.SessionOpen || ses.Spec.TargetSnapshot.Kind != "service" ||
		ses.Spec.TargetSnapshot.Name != "worker" || ses.Spec.TargetSnapshot.Generation != restarted.Metadata.Generation ||
		ses.Spec.TargetSnapshot.BackendKind != api.BackendKindSandbox {
		t.Fatalf("open: %+v %v", ses, err)
	}
	if d := ses.Spec.ExpiresAt.Sub(ses.Metadata.CreatedAt); d != 10*time.Minute {
		t.Fatalf("expiresAt - createdAt = %s, want 10m", d)
	}
	if g, err := c.Sessions.Get(ctx, ses.Metadata.ID); err != nil || g.Metadata.ID != ses.Metadata.ID {
		t.Fatalf("session get: %v", err)
	}
	sl, err := c.Sessions.List(ctx, client.ListSessionsOptions{State: api.SessionOpen})
	if err != nil || len(sl.Items) != 1 {
		t.Fatalf("session list: %+v %v", sl, err)
	}
	closed, err := c.Sessions.Close(ctx, ses.Metadata.ID, "done")
	if err != nil || closed.Status.LifecycleState != api.SessionClosed || closed.Status.CloseReason != "done" || closed.Status.ClosedAt == nil {
		t.Fatalf("close: %+v %v", closed, err)
	}
	// PATCH services
	upd, err := c.Services.Update(ctx, "worker", api.UpdateServiceRequest{Labels: labels(map[string]string{"team": "infra"}), IfMatchGeneration: gen(restarted.Metadata.Generation)})
	if err != nil || upd.Metadata.Labels["team"] != "infra" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	// POST stop with waitUntil stopped; stop of a stopped service is a no-op
	stopped, err := c.Services.Stop(ctx, "worker", client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 10 * time.Second})
	if err != nil || stopped.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("stop: %+v %v", stopped, err)
	}
	if s, err := c.Services.Stop(ctx, "worker", client.ActionOptions{}); err != nil || s.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("stop no-op: %v", err)
	}
	// DELETE services
	if err := c.Services.Delete(ctx, "worker", client.DeleteOptions{IfMatchGeneration: upd.Metadata.Generation}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.Services.Get(ctx, "worker"); !client.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}

	// Sandboxes: create (starts at once) / get / list / patch / stop / delete.
	sb, err := c.Sandboxes.Create(ctx, standaloneSandbox(map[string]string{"purpose": "batch"}))
	if err != nil || !api.ValidSandboxID(sb.Metadata.ID) || sb.Spec.Profile != api.ProfileWorker {
		t.Fatalf("sandbox create: %+v %v", sb, err)
	}
	sb, err = c.Sandboxes.Wait(ctx, sb.Metadata.ID, client.WaitOptions{Until: api.WaitRunning, Timeout: 10 * time.Second})
	if err != nil || len(sb.Status.Endpoints) == 0 {
		t.Fatalf("sandbox running: %+v %v", sb, err)
	}
	batch, err := c.Sandboxes.List(ctx, client.ListSandboxesOptions{LabelKey: "purpose", LabelValue: "batch"})
	if err != nil || len(batch.Items) != 1 || batch.Items[0].Metadata.ID != sb.Metadata.ID {
		t.Fatalf("sandbox list: %+v %v", batch, err)
	}
	sbu, err := c.Sandboxes.Update(ctx, sb.Metadata.ID, api.UpdateSandboxRequest{Labels: labels(map[string]string{"purpose": "other"}), IfMatchGeneration: gen(sb.Metadata.Generation)})
	if err != nil || sbu.Metadata.Generation != sb.Metadata.Generation+1 || sbu.Metadata.Labels["purpose"] != "other" {
		t.Fatalf("sandbox patch: %+v %v", sbu, err)
	}
	if _, err := c.Sandboxes.Stop(ctx, sb.Metadata.ID, client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 10 * time.Second}); err != nil {
		t.Fatalf("sandbox stop: %v", err)
	}
	if err := c.Sandboxes.Delete(ctx, sb.Metadata.ID, client.SandboxDeleteOptions{}); err != nil {
		t.Fatalf("sandbox delete: %v", err)
	}
	if _, err := c.Sandboxes.Get(ctx, sb.Metadata.ID); !client.IsNotFound(err) {
		t.Fatalf("sandbox get after delete: %v", err)
	}
}

// TestBuiltInAndRuntimes covers every backend on the simulated runtime:
// container and krun sandboxes and each built-in provider.
func TestBuiltInAndRuntimes(t *testing.T) {
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	for _, p := range api.BuiltInProviders {
		mustCreate(t, c, testfixtures.BuiltInService("bi-"+stringsLower(p), p, nil))
		s := mustStart(t, c, "bi-"+stringsLower(p))
		if len(s.Status.Endpoints) == 0 {
			t.Errorf("built-in %s has no endpoints", p)
		}
	}
	for _, rt := range []string{api.RuntimeContainer, api.RuntimeKrun} {
		req := standaloneSandbox(nil)
		req.Spec.Backend = rt
		req.Profile = api.ProfileDesktop
		sb, err := c.Sandboxes.Create(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		sb, err = c.Sandboxes.Wait(ctx, sb.Metadata.ID, client.WaitOptions{Until: api.WaitRunning, Timeout: 10 * time.Second})
		if err != nil || sb.Spec.Backend != rt || len(sb.Status.Endpoints) == 0 {
			t.Fatalf("%s sandbox: %+v %v", rt, sb, err)
		}
		// Deleting a running sandbox needs force.
		err = c.Sandboxes.Delete(ctx, sb.Metadata.ID, client.SandboxDeleteOptions{})
		wantCode(t, err, api.CodeConflict)
		if err := c.Sandboxes.Delete(ctx, sb.Metadata.ID, client.SandboxDeleteOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	// Raw method check on a known route.
	if st, _ := raw(t, srv, http.MethodPut, "/v1/tenants/acc/services", nil); st != 405 {
		t.Fatalf("PUT services: %d", st)
	}
}

func stringsLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// These tests drive the domain through its typed methods, without HTTP.

const tenant = "acc"

func newDomain(t *testing.T) *domain.Domain {
	t.Helper()
	d, err := domain.New(domain.Config{Runtime: runtimes.NewSimulated(runtimes.SimulatedOptions{
		StartDelay: 20 * time.Millisecond, StopDelay: 20 * time.Millisecond})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func gen(g int64) *int64 { return &g }

// wantCode fails unless err is a *domain.Error with code.
func wantCode(t *testing.T, err error, code string) *domain.Error {
	t.Helper()
	var e *domain.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want a *domain.Error with code %s", err, code)
	}
	if domain.CodeOf(err) != code {
		t.Fatalf("CodeOf(%v) = %s, want %s", err, domain.CodeOf(err), code)
	}
	return e
}

// waitService waits (on the domain's watch, not by sleeping) until the
// service satisfies cond.
func waitService(t *testing.T, d *domain.Domain, name string, cond func(*api.Service) bool) *api.Service {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		ch, release := d.Watch(domain.KindService, tenant, name)
		svc, err := d.GetService(tenant, name)
		if err != nil {
			release()
			t.Fatal(err)
		}
		if cond(svc) {
			release()
			return svc
		}
		select {
		case <-ch:
			release()
		case <-deadline:
			release()
			t.Fatalf("service %s stayed %s (%s)", name, svc.Status.LifecycleState, svc.Status.Message)
		}
	}
}

func state(s string) func(*api.Service) bool {
	return func(svc *api.Service) bool { return svc.Status.LifecycleState == s }
}

func sandboxService(name string) api.CreateServiceRequest {
	return testfixtures.SandboxService(name, "registry.example.com/web:1", []string{"serve"}, nil, nil)
}

func TestServiceStartStopRestart(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	svc, err := d.CreateService(ctx, tenant, sandboxService("web"))
	if err != nil {
		t.Fatal(err)
	}
	if svc.Status.LifecycleState != api.ServiceStopped || svc.Metadata.Generation != 1 {
		t.Fatalf("created: %s at generation %d", svc.Status.LifecycleState, svc.Metadata.Generation)
	}
	if _, err := d.CreateService(ctx, tenant, sandboxService("web")); err == nil {
		t.Fatal("a second service of the same name was created")
	} else {
		wantCode(t, err, api.CodeAlreadyExists)
	}

	started, err := d.StartService(ctx, tenant, "web", gen(1))
	if err != nil {
		t.Fatal(err)
	}
	if started.Status.LifecycleState != api.ServiceStarting || started.Status.SandboxID == "" {
		t.Fatalf("start answered %s with sandbox %q", started.Status.LifecycleState, started.Status.SandboxID)
	}
	running := waitService(t, d, "web", state(api.ServiceRunning))
	// Start of a running service is a no-op: nothing is written.
	again, err := d.StartService(ctx, tenant, "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Metadata.ResourceVersion != running.Metadata.ResourceVersion {
		t.Fatalf("start of a running service wrote it: resourceVersion %s → %s", running.Metadata.ResourceVersion, again.Metadata.ResourceVersion)
	}

	// Restart goes through stopping and comes back running on the same sandbox id.
	restarting, err := d.RestartService(ctx, tenant, "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	if restarting.Status.LifecycleState != api.ServiceStopping {
		t.Fatalf("restart of a running service answered %s", restarting.Status.LifecycleState)
	}
	back := waitService(t, d, "web", state(api.ServiceRunning))
	if back.Status.SandboxID != running.Status.SandboxID {
		t.Fatalf("restart replaced the sandbox: %s → %s", running.Status.SandboxID, back.Status.SandboxID)
	}

	stopping, err := d.StopService(ctx, tenant, "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	if stopping.Status.LifecycleState != api.ServiceStopping {
		t.Fatalf("stop of a running service answered %s", stopping.Status.LifecycleState)
	}
	stopped := waitService(t, d, "web", state(api.ServiceStopped))
	if stopped.Status.Readiness != api.ReadinessNotReady {
		t.Fatalf("a stopped service is %s", stopped.Status.Readiness)
	}
	// Stop of a stopped service is a no-op; restart of it starts it.
	if out, err := d.StopService(ctx, tenant, "web", nil); err != nil || out.Metadata.ResourceVersion != stopped.Metadata.ResourceVersion {
		t.Fatalf("stop of a stopped service: %v, resourceVersion %s → %s", err, stopped.Metadata.ResourceVersion, out.Metadata.ResourceVersion)
	}
	if out, err := d.RestartService(ctx, tenant, "web", nil); err != nil || out.Status.LifecycleState != api.ServiceStarting {
		t.Fatalf("restart of a stopped service: %v", err)
	}
	waitService(t, d, "web", state(api.ServiceRunning))

	if _, err := d.StartService(ctx, tenant, "ghost", nil); err == nil {
		t.Fatal("start of a missing service succeeded")
	} else if e := wantCode(t, err, api.CodeNotFound); e.Details == nil || e.Details.Name != "ghost" {
		t.Fatalf("not found without the name: %+v", e.Details)
	}
}

func TestGenerationPrecondition(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	if _, err := d.CreateService(ctx, tenant, testfixtures.BuiltInService("lb", api.ProviderLoadBalancer, nil)); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"team": "a"}
	upd, err := d.UpdateService(ctx, tenant, "lb", api.UpdateServiceRequest{Labels: &labels, IfMatchGeneration: gen(1)})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Metadata.Generation != 2 {
		t.Fatalf("a label change left generation %d", upd.Metadata.Generation)
	}

	// Without ifMatchGeneration a change is refused.
	_, err = d.UpdateService(ctx, tenant, "lb", api.UpdateServiceRequest{Labels: &labels})
	wantCode(t, err, api.CodePreconditionRequired)
	wantCode(t, d.DeleteService(ctx, tenant, "lb", nil, false), api.CodePreconditionRequired)

	// A stale generation changes nothing and says which generation is current.
	before, err := d.GetService(tenant, "lb")
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"start": func() error { _, err := d.StartService(ctx, tenant, "lb", gen(1)); return err },
		"stop":  func() error { _, err := d.StopService(ctx, tenant, "lb", gen(1)); return err },
		"update": func() error {
			_, err := d.UpdateService(ctx, tenant, "lb", api.UpdateServiceRequest{Labels: &labels, IfMatchGeneration: gen(1)})
			return err
		},
		"delete": func() error { return d.DeleteService(ctx, tenant, "lb", gen(1), true) },
	} {
		e := wantCode(t, call(), api.CodePreconditionFailed)
		if e.Details == nil || e.Details.CurrentGeneration != 2 {
			t.Fatalf("%s: details %+v, want currentGeneration 2", name, e.Details)
		}
	}
	after, err := d.GetService(tenant, "lb")
	if err != nil || after.Metadata.ResourceVersion != before.Metadata.ResourceVersion {
		t.Fatalf("a refused call changed the service: %v, resourceVersion %s → %s", err, before.Metadata.ResourceVersion, after.Metadata.ResourceVersion)
	}
	_, err = d.StartService(ctx, tenant, "lb", gen(0))
	wantCode(t, err, api.CodeInvalid)

	// The current generation is accepted.
	if out, err := d.StartService(ctx, tenant, "lb", gen(2)); err != nil || out.Status.LifecycleState != api.ServiceRunning {
		t.Fatalf("start at the current generation: %v", err)
	}
	wantCode(t, d.DeleteService(ctx, tenant, "lb", gen(2), false), api.CodeConflict) // running: stop first or force
	if err := d.DeleteService(ctx, tenant, "lb", gen(2), true); err != nil {
		t.Fatal(err)
	}
	_, err = d.GetService(tenant, "lb")
	wantCode(t, err, api.CodeNotFound)
}

func TestOwnedSandboxIsRemovedWithItsService(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	if _, err := d.CreateService(ctx, tenant, sandboxService("api")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.StartService(ctx, tenant, "api", nil); err != nil {
		t.Fatal(err)
	}
	svc := waitService(t, d, "api", state(api.ServiceRunning))
	id := svc.Status.SandboxID
	sb, err := d.GetSandbox(tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Status.LifecycleState != api.SandboxRunning || sb.Spec.Owner.ServiceName != "api" {
		t.Fatalf("owned sandbox %s is %s, owner %+v", id, sb.Status.LifecycleState, sb.Spec.Owner)
	}
	sess, err := d.OpenSession(ctx, tenant, "", api.OpenSessionRequest{Target: api.SessionTarget{Sandbox: &api.SandboxRef{ID: id}}, Channels: []string{api.ChannelStdio}})
	if err != nil {
		t.Fatal(err)
	}

	// The sandbox is managed through its service.
	wantCode(t, d.DeleteSandbox(ctx, tenant, id, nil, true), api.CodeConflict)
	_, err = d.StopSandbox(ctx, tenant, id, nil)
	wantCode(t, err, api.CodeConflict)
	if _, err := d.GetSandbox(tenant, id); err != nil {
		t.Fatalf("a refused delete removed the sandbox: %v", err)
	}

	// Deleting the service (force: it is running) removes its sandbox and
	// closes the sandbox's sessions.
	if err := d.DeleteService(ctx, tenant, "api", gen(svc.Metadata.Generation), true); err != nil {
		t.Fatal(err)
	}
	_, err = d.GetSandbox(tenant, id)
	wantCode(t, err, api.CodeNotFound)
	closed, err := d.GetSession(tenant, sess.Metadata.ID)
	if err != nil {
		t.Fatal(err)
	}
	if closed.Status.LifecycleState != api.SessionClosed || closed.Status.CloseReason == "" {
		t.Fatalf("the session on the removed sandbox is %s (%q)", closed.Status.LifecycleState, closed.Status.CloseReason)
	}
	if page, err := d.ListSandboxes(tenant, domain.ListQuery{Limit: 10}); err != nil || len(page.Items) != 0 || page.Next != "" {
		t.Fatalf("sandboxes left: %+v, %v", page, err)
	}
}

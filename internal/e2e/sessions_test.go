package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// waitSession long-polls a session until its state is want.
func waitSession(t *testing.T, c *client.Client, id, want string) *api.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := c.Sessions.Get(ctx, id)
	for err == nil && s.Status.LifecycleState != want {
		s, err = c.Sessions.Get(ctx, id, client.ChangedSince(s.Metadata.ResourceVersion, 5*time.Second))
	}
	if err != nil {
		t.Fatalf("session %s never became %s: %v", id, want, err)
	}
	return s
}

// TestSessionExpiryWithFakeClock: a session expires at expiresAt on the
// server's (fake) clock, with nobody reading it.
func TestSessionExpiryWithFakeClock(t *testing.T) {
	srv := testserver.Start(t, testserver.WithFakeClock())
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	mustCreate(t, c, testfixtures.BuiltInService("gw", api.ProviderModelGateway, nil))
	mustStart(t, c, "gw")

	t0 := srv.Clock.Now()
	short, err := c.Sessions.Open(ctx, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "gw"}}, Channels: []string{api.ChannelStdio, api.ChannelFiles}, RequestedTTLMs: 60000})
	if err != nil {
		t.Fatal(err)
	}
	long, err := c.Sessions.Open(ctx, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "gw"}}, Channels: []string{api.ChannelStdio}})
	if err != nil {
		t.Fatal(err)
	}
	if d := short.Spec.ExpiresAt.Sub(t0); d < 59*time.Second || d > 61*time.Second {
		t.Fatalf("expiresAt is %s after open, want 60s", d)
	}
	if long.Spec.RequestedTTLMs != api.DefaultSessionTTLMs || long.Spec.ExpiresAt.Sub(long.Metadata.CreatedAt) != 15*time.Minute {
		t.Fatalf("default TTL: %+v", long.Spec)
	}
	// Out-of-range TTLs are rejected with a field violation.
	_, err = c.Sessions.Open(ctx, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "gw"}}, Channels: []string{api.ChannelStdio}, RequestedTTLMs: 500})
	if e := wantCode(t, err, api.CodeInvalid); len(e.FieldViolations()) == 0 || e.FieldViolations()[0].Field != "requestedTtlMs" {
		t.Fatalf("violations %+v", e.FieldViolations())
	}

	// Nothing expires before expiresAt.
	srv.Clock.Advance(59 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if s, _ := c.Sessions.Get(ctx, short.Metadata.ID); s.Status.LifecycleState != api.SessionOpen {
		t.Fatalf("expired early: %+v", s.Status)
	}
	// Past expiresAt: expired, enforced by the server.
	srv.Clock.Advance(2 * time.Second)
	waitSession(t, c, short.Metadata.ID, api.SessionExpired)
	if s, _ := c.Sessions.Get(ctx, long.Metadata.ID); s.Status.LifecycleState != api.SessionOpen {
		t.Fatalf("the 15m session expired too: %+v", s.Status)
	}
	l, err := c.Sessions.List(ctx, client.ListSessionsOptions{State: api.SessionExpired})
	if err != nil || len(l.Items) != 1 || l.Items[0].Metadata.ID != short.Metadata.ID {
		t.Fatalf("expired list: %+v %v", l, err)
	}
	// An expired session cannot be closed into another state.
	if s, err := c.Sessions.Close(ctx, short.Metadata.ID, "late"); err == nil && s.Status.LifecycleState != api.SessionExpired {
		t.Fatalf("closing an expired session changed it: %+v", s.Status)
	}
}

// TestSessionsCloseWhenTargetStopsOrIsDeleted: sessions close (with a
// reason) when their service stops or their sandbox is deleted.
func TestSessionsCloseWhenTargetStopsOrIsDeleted(t *testing.T) {
	srv := testserver.Start(t, testserver.WithFakeClock())
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	mustCreate(t, c, sandboxService("web", nil))
	mustStart(t, c, "web")
	svcSes, err := c.Sessions.Open(ctx, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "web"}}, Channels: []string{api.ChannelStdio}})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := c.Sandboxes.Create(ctx, standaloneSandbox(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sandboxes.Wait(ctx, sb.Metadata.ID, client.WaitOptions{Until: api.WaitRunning, Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	sbSes, err := c.Sessions.Open(ctx, api.OpenSessionRequest{Target: api.SessionTarget{Sandbox: &api.SandboxRef{ID: sb.Metadata.ID}}, Channels: []string{api.ChannelFiles}})
	if err != nil {
		t.Fatal(err)
	}
	if sbSes.Spec.TargetSnapshot.Kind != "sandbox" || sbSes.Spec.TargetSnapshot.ID != sb.Metadata.ID || sbSes.Spec.TargetSnapshot.Runtime != api.RuntimeContainer {
		t.Fatalf("sandbox snapshot: %+v", sbSes.Spec.TargetSnapshot)
	}
	// Stopping the service closes its session.
	if _, err := c.Services.Stop(ctx, "web", client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	s := waitSession(t, c, svcSes.Metadata.ID, api.SessionClosed)
	if s.Status.CloseReason == "" || s.Status.ClosedAt == nil {
		t.Fatalf("closed without a reason: %+v", s.Status)
	}
	// Deleting the sandbox closes its session.
	if err := c.Sandboxes.Delete(ctx, sb.Metadata.ID, client.SandboxDeleteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	s = waitSession(t, c, sbSes.Metadata.ID, api.SessionClosed)
	if s.Status.CloseReason == "" {
		t.Fatalf("closed without a reason: %+v", s.Status)
	}
	open, err := c.Sessions.List(ctx, client.ListSessionsOptions{State: api.SessionOpen})
	if err != nil || len(open.Items) != 0 {
		t.Fatalf("open sessions left: %+v %v", open, err)
	}
}

// TestLongPollWakesPromptly: a waiter blocked in a long-poll GET answers as
// soon as the object changes, not at the end of its wait.
func TestLongPollWakesPromptly(t *testing.T) {
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	s := mustCreate(t, c, testfixtures.BuiltInService("lp", api.ProviderBrowser, nil))

	// Unchanged: answers after waitMs with the same resourceVersion.
	start := time.Now()
	same, err := c.Services.Get(ctx, "lp", client.ChangedSince(s.Metadata.ResourceVersion, 300*time.Millisecond))
	if d := time.Since(start); err != nil || d < 250*time.Millisecond || d > 5*time.Second || same.Metadata.ResourceVersion != s.Metadata.ResourceVersion {
		t.Fatalf("unchanged long-poll: %s %v", d, err)
	}
	// Already different: answers at once.
	start = time.Now()
	if _, err := c.Services.Get(ctx, "lp", client.ChangedSince("stale-rv", 30*time.Second)); err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("stale changedSince did not answer at once: %s %v", time.Since(start), err)
	}
	// A change wakes a waiter promptly.
	type result struct {
		s     *api.Service
		err   error
		at    time.Time
		label string
	}
	done := make(chan result, 1)
	go func() {
		got, err := c.Services.Get(ctx, "lp", client.ChangedSince(s.Metadata.ResourceVersion, 30*time.Second))
		r := result{s: got, err: err, at: time.Now()}
		if got != nil {
			r.label = got.Metadata.Labels["x"]
		}
		done <- r
	}()
	time.Sleep(200 * time.Millisecond)
	changedAt := time.Now()
	if _, err := c.Services.Update(ctx, "lp", api.UpdateServiceRequest{Labels: labels(map[string]string{"x": "y"}), IfMatchGeneration: gen(1)}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.label != "y" {
		t.Fatalf("long-poll: %+v", r)
	}
	if lag := r.at.Sub(changedAt); lag > time.Second {
		t.Fatalf("waiter woke %s after the change", lag)
	}
	// Waits are driven by the long-poll: with a 10s interval, a start that
	// takes 300ms completes long before one interval.
	slow := testserver.Start(t, func(o *testserver.Options) { o.StartDelay = 300 * time.Millisecond })
	sc := testfixtures.ServerClient(t, slow)
	mustCreate(t, sc, sandboxService("slow", nil))
	start = time.Now()
	if _, err := sc.Services.Start(ctx, "slow", client.ActionOptions{WaitUntil: api.WaitReady, Interval: 10 * time.Second, Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second || d < 250*time.Millisecond {
		t.Fatalf("start+wait took %s: the wait is polling, not long-polling", d)
	}
}

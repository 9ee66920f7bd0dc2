package server_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func openSession(t testing.TB, srv *testserver.Server, req api.OpenSessionRequest) api.Session {
	t.Helper()
	return decoded[api.Session](t, do(t, srv, "POST", tp+"/sessions", req), 201)
}

func getSession(t testing.TB, srv *testserver.Server, id string) api.Session {
	t.Helper()
	return decoded[api.Session](t, do(t, srv, "GET", tp+"/sessions/"+id, nil), 200)
}

func TestSessionOpenRequiresRunningTarget(t *testing.T) {
	srv := testserver.Start(t)
	mustCreate(t, srv, builtInService("svc", nil))
	e := expect(t, do(t, srv, "POST", tp+"/sessions", api.OpenSessionRequest{
		Target: api.SessionTarget{Service: &api.ServiceRef{Name: "svc"}}, Channels: []string{"stdio"}}), 409, api.CodeConflict)
	if !strings.Contains(e.Message, "stopped") || e.Details.LifecycleState != api.ServiceStopped {
		t.Fatalf("conflict must name the target state: %+v", e)
	}
	expect(t, do(t, srv, "POST", tp+"/sessions", api.OpenSessionRequest{
		Target: api.SessionTarget{Service: &api.ServiceRef{Name: "nope"}}, Channels: []string{"stdio"}}), 404, api.CodeNotFound)
	e = expect(t, do(t, srv, "POST", tp+"/sessions", api.OpenSessionRequest{
		Target: api.SessionTarget{Service: &api.ServiceRef{Name: "svc"}}, Channels: []string{"stdio"}, RequestedTTLMs: 10}), 400, api.CodeInvalid)
	if e.Details == nil || e.Details.FieldViolations[0].Field != "requestedTtlMs" {
		t.Fatalf("ttl violation: %+v", e)
	}
}

func TestSessionSnapshotTTLAndExpiry(t *testing.T) {
	logs := &syncBuffer{}
	srv := testserver.Start(t, testserver.WithFakeClock(), func(o *testserver.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	do(t, srv, "POST", tp+"/services/api/start", nil)
	waitService(t, srv, "api", readyOn(1))
	t0 := srv.Clock.Now()
	s := openSession(t, srv, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "api"}},
		Channels: []string{"stdio", "files"}, RequestedTTLMs: 60000})
	snap := s.Spec.TargetSnapshot
	if snap.Kind != "service" || snap.Name != "api" || snap.Generation != 1 || snap.BackendKind != api.BackendKindSandbox || snap.Runtime != api.RuntimeContainer {
		t.Fatalf("snapshot: %+v", snap)
	}
	if s.Status.LifecycleState != api.SessionOpen || !s.Spec.ExpiresAt.Equal(t0.UTC().Truncate(time.Millisecond).Add(time.Minute)) {
		t.Fatalf("session: %+v (t0 %v)", s, t0)
	}
	def := openSession(t, srv, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "api"}}, Channels: []string{"stdio"}})
	if def.Spec.RequestedTTLMs != api.DefaultSessionTTLMs || def.Spec.ExpiresAt.Sub(def.Metadata.CreatedAt) != 15*time.Minute {
		t.Fatalf("default ttl: %+v", def.Spec)
	}
	// Nobody reads: the server's own timer expires the session.
	srv.Clock.Advance(61 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "session expired") {
		if time.Now().After(deadline) {
			t.Fatalf("session did not expire on its own; logs:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := getSession(t, srv, s.Metadata.ID)
	if got.Status.LifecycleState != api.SessionExpired || got.Status.ClosedAt == nil {
		t.Fatalf("expired: %+v", got.Status)
	}
	if d := getSession(t, srv, def.Metadata.ID); d.Status.LifecycleState != api.SessionOpen {
		t.Fatalf("15-minute session expired early: %+v", d.Status)
	}
	// state filter
	r := do(t, srv, "GET", tp+"/sessions?state=expired", nil)
	var list api.SessionList
	r.into(t, &list)
	if len(list.Items) != 1 || list.Items[0].Metadata.ID != s.Metadata.ID {
		t.Fatalf("state filter: %s", r.body)
	}
	expect(t, do(t, srv, "GET", tp+"/sessions?state=bogus", nil), 400, api.CodeInvalid)
	// close with a reason; closing again conflicts.
	r = do(t, srv, "POST", tp+"/sessions/"+def.Metadata.ID+"/close", api.CloseSessionRequest{Reason: "done"})
	expect(t, r, 200, "")
	var c api.Session
	r.into(t, &c)
	if c.Status.LifecycleState != api.SessionClosed || c.Status.CloseReason != "done" {
		t.Fatalf("closed: %+v", c.Status)
	}
	e := expect(t, do(t, srv, "POST", tp+"/sessions/"+def.Metadata.ID+"/close", nil), 409, api.CodeConflict)
	if e.Details == nil || e.Details.LifecycleState != api.SessionClosed {
		t.Fatalf("close of a closed session: %+v", e)
	}
	expect(t, do(t, srv, "POST", tp+"/sessions/"+s.Metadata.ID+"/close", nil), 409, api.CodeConflict)
	expect(t, do(t, srv, "GET", tp+"/sessions/ses-doesnotexist", nil), 404, api.CodeNotFound)
}

func TestSessionsCloseWhenTargetStopsOrIsDeleted(t *testing.T) {
	srv := testserver.Start(t)
	mustCreate(t, srv, builtInService("svc", nil))
	do(t, srv, "POST", tp+"/services/svc/start", nil)
	waitService(t, srv, "svc", readyOn(1))
	s1 := openSession(t, srv, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "svc"}}, Channels: []string{"page"}})
	if s1.Spec.TargetSnapshot.Provider != api.ProviderLoadBalancer || s1.Spec.TargetSnapshot.BackendKind != api.BackendKindBuiltIn {
		t.Fatalf("builtIn snapshot: %+v", s1.Spec.TargetSnapshot)
	}
	do(t, srv, "POST", tp+"/services/svc/stop", nil)
	got := getSession(t, srv, s1.Metadata.ID)
	if got.Status.LifecycleState != api.SessionClosed || !strings.Contains(got.Status.CloseReason, "stop") {
		t.Fatalf("session after target stop: %+v", got.Status)
	}

	sb := mustCreateSandbox(t, srv, standaloneSandbox("registry.example/job:1"))
	waitSandbox(t, srv, sb.Metadata.ID, sbxState(api.SandboxRunning))
	s2 := openSession(t, srv, api.OpenSessionRequest{Target: api.SessionTarget{Sandbox: &api.SandboxRef{ID: sb.Metadata.ID}}, Channels: []string{"stdio"}})
	if s2.Spec.TargetSnapshot.Kind != "sandbox" || s2.Spec.TargetSnapshot.ID != sb.Metadata.ID {
		t.Fatalf("sandbox snapshot: %+v", s2.Spec.TargetSnapshot)
	}
	if r := do(t, srv, "DELETE", tp+"/sandboxes/"+sb.Metadata.ID+"?force=true", nil); r.status != 204 {
		t.Fatalf("delete sandbox: %d %s", r.status, r.body)
	}
	got = getSession(t, srv, s2.Metadata.ID)
	if got.Status.LifecycleState != api.SessionClosed || !strings.Contains(got.Status.CloseReason, "deleted") {
		t.Fatalf("session after target delete: %+v", got.Status)
	}
}

package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func TestBuiltInServiceLifecycle(t *testing.T) {
	srv := testserver.Start(t)
	s := mustCreate(t, srv, builtInService("lb", map[string]string{"team": "a"}))
	if s.Metadata.Generation != 1 || s.Metadata.ResourceVersion == "" || s.Metadata.TenantID != "acc" || s.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("created: %+v", s)
	}
	expect(t, do(t, srv, "POST", tp+"/services", builtInService("lb", nil)), 409, api.CodeAlreadyExists)

	r := do(t, srv, "POST", tp+"/services/lb/start", nil)
	expect(t, r, 200, "")
	got := waitService(t, srv, "lb", readyOn(1))
	if got.Status.Health != api.HealthHealthy || len(got.Status.Endpoints) == 0 {
		t.Fatalf("running built-in: %+v", got.Status)
	}
	for _, c := range []string{api.ConditionReady, api.ConditionHealthy} {
		found := false
		for _, cd := range got.Status.Conditions {
			if cd.Type == c && cd.Status == api.ConditionTrue && cd.ObservedGeneration == 1 && !cd.LastTransitionTime.IsZero() {
				found = true
			}
		}
		if !found {
			t.Fatalf("condition %s not True: %+v", c, got.Status.Conditions)
		}
	}
	if got.Metadata.Generation != 1 {
		t.Fatalf("status changes must not bump generation: %d", got.Metadata.Generation)
	}
	// start of a running service is a no-op.
	r = do(t, srv, "POST", tp+"/services/lb/start", nil)
	expect(t, r, 200, "")
	if again := getService(t, srv, "lb"); again.Metadata.ResourceVersion != got.Metadata.ResourceVersion {
		t.Fatalf("no-op start wrote the object")
	}
	// restart ends running again.
	expect(t, do(t, srv, "POST", tp+"/services/lb/restart", nil), 200, "")
	waitService(t, srv, "lb", readyOn(1))
	// stop, then stop again (no-op).
	expect(t, do(t, srv, "POST", tp+"/services/lb/stop", nil), 200, "")
	st := waitService(t, srv, "lb", stateIs(api.ServiceStopped))
	r = do(t, srv, "POST", tp+"/services/lb/stop", nil)
	expect(t, r, 200, "")
	if again := getService(t, srv, "lb"); again.Metadata.ResourceVersion != st.Metadata.ResourceVersion {
		t.Fatalf("no-op stop wrote the object")
	}
	// delete needs the generation.
	expect(t, do(t, srv, "DELETE", tp+"/services/lb", nil), 428, api.CodePreconditionRequired)
	r = do(t, srv, "DELETE", tp+"/services/lb?ifMatchGeneration=1", nil)
	if r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	expect(t, do(t, srv, "GET", tp+"/services/lb", nil), 404, api.CodeNotFound)
}

func TestSandboxServiceOwnsSandbox(t *testing.T) {
	srv := testserver.Start(t)
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	expect(t, do(t, srv, "POST", tp+"/services/api/start", nil), 200, "")
	s := waitService(t, srv, "api", readyOn(1))
	if s.Status.SandboxID == "" || len(s.Status.Endpoints) == 0 || s.Status.Health != api.HealthHealthy {
		t.Fatalf("running sandbox service: %+v", s.Status)
	}
	r := do(t, srv, "GET", tp+"/sandboxes", nil)
	var list api.SandboxList
	r.into(t, &list)
	if len(list.Items) != 1 || list.Items[0].Metadata.ID != s.Status.SandboxID || list.Items[0].Spec.Owner.Kind != api.OwnerKindService ||
		list.Items[0].Spec.Owner.ServiceName != "api" || list.Items[0].Status.LifecycleState != api.SandboxRunning {
		t.Fatalf("owned sandbox not listed: %s", r.body)
	}
	// The owned sandbox cannot be stopped or deleted on its own.
	expect(t, do(t, srv, "POST", tp+"/sandboxes/"+s.Status.SandboxID+"/stop", nil), 409, api.CodeConflict)
	expect(t, do(t, srv, "DELETE", tp+"/sandboxes/"+s.Status.SandboxID+"?force=true", nil), 409, api.CodeConflict)
	// Delete of a running service without force conflicts; with force it goes, with its sandbox.
	e := expect(t, do(t, srv, "DELETE", tp+"/services/api?ifMatchGeneration=1", nil), 409, api.CodeConflict)
	if e.Details == nil || e.Details.LifecycleState != api.ServiceRunning {
		t.Fatalf("conflict details: %+v", e)
	}
	if r := do(t, srv, "DELETE", tp+"/services/api?ifMatchGeneration=1&force=true", nil); r.status != 204 {
		t.Fatalf("force delete: %d %s", r.status, r.body)
	}
	expect(t, do(t, srv, "GET", tp+"/sandboxes/"+s.Status.SandboxID, nil), 404, api.CodeNotFound)
}

func TestSandboxServiceStopAndFail(t *testing.T) {
	srv := testserver.Start(t)
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	do(t, srv, "POST", tp+"/services/api/start", nil)
	s := waitService(t, srv, "api", readyOn(1))
	expect(t, do(t, srv, "POST", tp+"/services/api/stop", nil), 200, "")
	waitService(t, srv, "api", stateIs(api.ServiceStopped))
	waitSandbox(t, srv, s.Status.SandboxID, sbxState(api.SandboxStopped))

	mustCreate(t, srv, sandboxService("bad", "fail.nimbus.invalid/api:1"))
	do(t, srv, "POST", tp+"/services/bad/start", nil)
	f := waitService(t, srv, "bad", stateIs(api.ServiceFailed))
	if !strings.Contains(f.Status.Message, "fail") || f.Status.Readiness != api.ReadinessNotReady {
		t.Fatalf("failed service: %+v", f.Status)
	}
	sb := waitSandbox(t, srv, f.Status.SandboxID, sbxState(api.SandboxFailed))
	if sb.Status.ExitCode == nil || *sb.Status.ExitCode != 1 || sb.Status.Message == "" {
		t.Fatalf("failed sandbox: %+v", sb.Status)
	}
}

func TestRollingUpdate(t *testing.T) {
	srv := testserver.Start(t)
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	do(t, srv, "POST", tp+"/services/api/start", nil)
	s := waitService(t, srv, "api", readyOn(1))
	b := sandboxService("api", "registry.example/api:2").Backend
	r := do(t, srv, "PATCH", tp+"/services/api", api.UpdateServiceRequest{Backend: &b, IfMatchGeneration: ptr(int64(1))})
	expect(t, r, 200, "")
	var u api.Service
	r.into(t, &u)
	if u.Metadata.Generation != 2 || u.Status.ObservedGeneration != 1 {
		t.Fatalf("after spec update: generation %d observed %d", u.Metadata.Generation, u.Status.ObservedGeneration)
	}
	rolled := waitService(t, srv, "api", readyOn(2))
	if rolled.Status.ObservedGeneration != 2 || rolled.Status.SandboxID != s.Status.SandboxID {
		t.Fatalf("rolled: %+v", rolled.Status)
	}
	sb := waitSandbox(t, srv, rolled.Status.SandboxID, sbxState(api.SandboxRunning))
	if sb.Spec.Root.Source.Reference != "registry.example/api:2" {
		t.Fatalf("sandbox not on the new image: %s", sb.Spec.Root.Source.Reference)
	}
}

func TestGenerationAndResourceVersion(t *testing.T) {
	srv := testserver.Start(t)
	s := mustCreate(t, srv, builtInService("svc", nil))
	rv1 := s.Metadata.ResourceVersion
	// labels change: generation +1, rv changes.
	r := do(t, srv, "PATCH", tp+"/services/svc", map[string]any{"labels": map[string]string{"a": "b"}, "ifMatchGeneration": 1})
	expect(t, r, 200, "")
	var u api.Service
	r.into(t, &u)
	if u.Metadata.Generation != 2 || u.Metadata.ResourceVersion == rv1 || u.Metadata.Labels["a"] != "b" || u.Status.ObservedGeneration != 2 {
		t.Fatalf("after label update: %+v", u.Metadata)
	}
	// same labels again: nothing changes.
	r = do(t, srv, "PATCH", tp+"/services/svc", map[string]any{"labels": map[string]string{"a": "b"}, "ifMatchGeneration": 2})
	var same api.Service
	r.into(t, &same)
	if same.Metadata.Generation != 2 || same.Metadata.ResourceVersion != u.Metadata.ResourceVersion {
		t.Fatalf("no-op update changed the object: %+v", same.Metadata)
	}
	// absent labels are kept; status changes (start) change rv but not generation.
	do(t, srv, "POST", tp+"/services/svc/start", nil)
	run := waitService(t, srv, "svc", readyOn(2))
	if run.Metadata.Generation != 2 || run.Metadata.ResourceVersion == u.Metadata.ResourceVersion || run.Metadata.Labels["a"] != "b" {
		t.Fatalf("after start: %+v", run.Metadata)
	}
	// stale and missing generations.
	e := expect(t, do(t, srv, "PATCH", tp+"/services/svc", map[string]any{"labels": map[string]string{}, "ifMatchGeneration": 1}), 412, api.CodePreconditionFailed)
	if e.Details == nil || e.Details.CurrentGeneration != 2 || !strings.Contains(e.Message, "generation 2") {
		t.Fatalf("precondition failed must name the current generation: %+v", e)
	}
	expect(t, do(t, srv, "PATCH", tp+"/services/svc", map[string]any{"labels": map[string]string{}}), 428, api.CodePreconditionRequired)
	expect(t, do(t, srv, "DELETE", tp+"/services/svc?ifMatchGeneration=7&force=true", nil), 412, api.CodePreconditionFailed)
	// empty labels map clears.
	r = do(t, srv, "PATCH", tp+"/services/svc", map[string]any{"labels": map[string]string{}, "ifMatchGeneration": 2})
	u = api.Service{}
	r.into(t, &u)
	if u.Metadata.Generation != 3 || len(u.Metadata.Labels) != 0 {
		t.Fatalf("clearing labels: %+v", u.Metadata)
	}
}

func TestExternalServiceHealth(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	var sawAuth atomic.Value
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("Authorization"))
		if r.URL.Path != "/healthz" {
			w.WriteHeader(404)
			return
		}
		if healthy.Load() {
			w.WriteHeader(204)
		} else {
			w.WriteHeader(503)
		}
	}))
	defer backend.Close()
	srv := testserver.Start(t)
	req := api.CreateServiceRequest{Name: "search", Backend: api.Backend{Kind: api.BackendKindExternal,
		Endpoint: &api.ExternalEndpoint{URL: backend.URL},
		Auth:     &api.ExternalAuth{Kind: api.AuthKindBearer, Token: &api.Secret{Value: "ext-secret-token"}},
		Health:   &api.HealthCheck{Kind: api.HealthKindHTTP, Path: "/healthz"}}}
	r := do(t, srv, "POST", tp+"/services", req)
	expect(t, r, 201, "")
	if strings.Contains(string(r.body), "ext-secret-token") {
		t.Fatalf("auth token in response: %s", r.body)
	}
	do(t, srv, "POST", tp+"/services/search/start", nil)
	s := waitService(t, srv, "search", func(s *api.Service) bool { return s.Status.Health == api.HealthHealthy })
	if s.Status.LifecycleState != api.ServiceRunning || s.Status.Readiness != api.ReadinessReady {
		t.Fatalf("external: %+v", s.Status)
	}
	if v, _ := sawAuth.Load().(string); v != "Bearer ext-secret-token" {
		t.Fatalf("health check auth header %q", v)
	}
	healthy.Store(false)
	waitService(t, srv, "search", func(s *api.Service) bool { return s.Status.Health == api.HealthUnhealthy })
	healthy.Store(true)
	waitService(t, srv, "search", func(s *api.Service) bool { return s.Status.Health == api.HealthHealthy })
	do(t, srv, "POST", tp+"/services/search/stop", nil)
	st := waitService(t, srv, "search", stateIs(api.ServiceStopped))
	if st.Status.Health != api.HealthUnknown {
		t.Fatalf("stopped external health %q", st.Status.Health)
	}
}

// Many goroutines race generation-checked updates: exactly one wins per round.
func TestConcurrentUpdatesOneWinner(t *testing.T) {
	srv := testserver.Start(t)
	mustCreate(t, srv, builtInService("race", nil))
	const rounds, racers = 6, 24
	for round := 0; round < rounds; round++ {
		gen := getService(t, srv, "race").Metadata.Generation
		var wins, lost atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := do(t, srv, "PATCH", tp+"/services/race", map[string]any{
					"labels": map[string]string{"winner": fmt.Sprintf("r%d-g%d", round, i)}, "ifMatchGeneration": gen})
				switch r.status {
				case 200:
					wins.Add(1)
				case 412:
					lost.Add(1)
				default:
					t.Errorf("racer: %d %s", r.status, r.body)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || lost.Load() != racers-1 {
			t.Fatalf("round %d: %d winners, %d precondition failures", round, wins.Load(), lost.Load())
		}
		if g := getService(t, srv, "race").Metadata.Generation; g != gen+1 {
			t.Fatalf("round %d: generation %d, want %d", round, g, gen+1)
		}
	}
}

// A spec change while a service is stopping is described once it has stopped.
func TestSpecChangeWhileStopping(t *testing.T) {
	srv := testserver.Start(t, func(o *testserver.Options) { o.StopDelay = 200 * time.Millisecond })
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	do(t, srv, "POST", tp+"/services/api/start", nil)
	waitService(t, srv, "api", readyOn(1))
	r := do(t, srv, "POST", tp+"/services/api/stop", nil)
	var s api.Service
	r.into(t, &s)
	if s.Status.LifecycleState != api.ServiceStopping {
		t.Fatalf("stop: %s", s.Status.LifecycleState)
	}
	b := sandboxService("api", "registry.example/api:2").Backend
	expect(t, do(t, srv, "PATCH", tp+"/services/api", api.UpdateServiceRequest{Backend: &b, IfMatchGeneration: ptr(int64(1))}), 200, "")
	st := waitService(t, srv, "api", stateIs(api.ServiceStopped))
	if st.Metadata.Generation != 2 || st.Status.ObservedGeneration != 2 {
		t.Fatalf("stopped: generation %d observed %d", st.Metadata.Generation, st.Status.ObservedGeneration)
	}
	// Starting it runs the new spec.
	do(t, srv, "POST", tp+"/services/api/start", nil)
	run := waitService(t, srv, "api", readyOn(2))
	sb := waitSandbox(t, srv, run.Status.SandboxID, sbxState(api.SandboxRunning))
	if sb.Spec.Root.Source.Reference != "registry.example/api:2" {
		t.Fatalf("image %s", sb.Spec.Root.Source.Reference)
	}
}

// Start during a stop runs again once stopped; stop during a restart wins.
func TestStartDuringStop(t *testing.T) {
	srv := testserver.Start(t, func(o *testserver.Options) { o.StopDelay = 100 * time.Millisecond })
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	do(t, srv, "POST", tp+"/services/api/start", nil)
	waitService(t, srv, "api", readyOn(1))
	do(t, srv, "POST", tp+"/services/api/stop", nil)
	do(t, srv, "POST", tp+"/services/api/start", nil)
	waitService(t, srv, "api", readyOn(1))
	do(t, srv, "POST", tp+"/services/api/restart", nil)
	do(t, srv, "POST", tp+"/services/api/stop", nil)
	waitService(t, srv, "api", stateIs(api.ServiceStopped))
	time.Sleep(150 * time.Millisecond)
	if s := getService(t, srv, "api"); s.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("stop during restart did not win: %s", s.Status.LifecycleState)
	}
}

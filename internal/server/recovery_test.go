package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// gatedRuntime holds every launch until open is called (or, so that a
// server that recovers before answering still ends, until timeout).
type gatedRuntime struct {
	runtimes.Runtime
	gate     chan struct{}
	once     sync.Once
	timedOut atomic.Bool
	blocked  atomic.Int64
	timeout  time.Duration
}

func newGatedRuntime(timeout time.Duration) *gatedRuntime {
	return &gatedRuntime{gate: make(chan struct{}), timeout: timeout}
}

func (g *gatedRuntime) open() { g.once.Do(func() { close(g.gate) }) }

func (g *gatedRuntime) wrap(rt runtimes.Runtime) runtimes.Runtime { g.Runtime = rt; return g }

func (g *gatedRuntime) Start(ctx context.Context, spec runtimes.Spec, report func(runtimes.Event)) (runtimes.Instance, error) {
	g.blocked.Add(1)
	select {
	case <-g.gate:
	case <-time.After(g.timeout):
		g.timedOut.Store(true)
		g.open()
	}
	g.blocked.Add(-1)
	return g.Runtime.Start(ctx, spec, report)
}

func (g *gatedRuntime) Close(ctx context.Context) error {
	g.open()
	if c, ok := g.Runtime.(runtimes.Closer); ok {
		return c.Close(ctx)
	}
	return nil
}

// TestRestartAnswersWhileRecovering: after a restart the server answers at
// once, while it is still bringing the running services back (every launch
// is held by a gate): they show starting, a stop on one that recovery has
// not reached yet wins, and once the gate opens all the others run again.
// It used to start every service before opening its port.
func TestRestartAnswersWhileRecovering(t *testing.T) {
	const n = 40
	srv := testserver.Start(t, testserver.WithDataDir(t.TempDir()))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("svc-%02d", i)
			mustCreate(t, srv, sandboxService(name, "registry.example/api:1"))
			do(t, srv, "POST", tp+"/services/"+name+"/start", nil)
		}()
	}
	wg.Wait()
	for i := range n {
		waitService(t, srv, fmt.Sprintf("svc-%02d", i), readyOn(1))
	}
	sb := mustCreateSandbox(t, srv, standaloneSandbox("registry.example/job:1"))
	waitSandbox(t, srv, sb.Metadata.ID, sbxState(api.SandboxRunning))

	gate := newGatedRuntime(45 * time.Second)
	defer gate.open()
	srv.RestartWith(t, func(o *testserver.Options) { o.WrapRuntime = gate.wrap })

	// Recovery is under way: launches are held at the gate.
	last := fmt.Sprintf("svc-%02d", n-1)
	got := getService(t, srv, last)
	if gate.timedOut.Load() {
		t.Fatal("the server answered only after recovery had run (every launch waited for the gate to time out)")
	}
	if got.Status.LifecycleState != api.ServiceStarting || got.Status.Readiness != api.ReadinessNotReady ||
		!strings.Contains(got.Status.Message, "server restart") || len(got.Status.Endpoints) != 0 {
		t.Fatalf("a service waiting for recovery must say starting: %+v", got.Status)
	}
	var list api.ServiceList
	do(t, srv, "GET", tp+"/services?limit=1000", nil).into(t, &list)
	if len(list.Items) != n {
		t.Fatalf("listed %d services, want %d", len(list.Items), n)
	}
	for _, s := range list.Items {
		if s.Status.LifecycleState != api.ServiceStarting {
			t.Fatalf("service %s is %s during recovery, want starting", s.Metadata.Name, s.Status.LifecycleState)
		}
	}
	if st := getSandbox(t, srv, sb.Metadata.ID).Status.LifecycleState; st != api.SandboxPending && st != api.SandboxStarting {
		t.Fatalf("standalone sandbox is %s during recovery, want pending or starting", st)
	}
	select {
	case <-srv.Server.Recovered():
		t.Fatal("recovery reported done while launches are held")
	default:
	}
	for deadline := time.Now().Add(10 * time.Second); gate.blocked.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no launch is held at the gate")
		}
	}
	// A client stop of a service recovery has not reached yet takes over.
	r := do(t, srv, "POST", tp+"/services/"+last+"/stop", nil)
	expect(t, r, 200, "")
	waitService(t, srv, last, stateIs(api.ServiceStopped))

	gate.open()
	for i := range n - 1 {
		waitService(t, srv, fmt.Sprintf("svc-%02d", i), readyOn(1))
	}
	waitSandbox(t, srv, sb.Metadata.ID, sbxState(api.SandboxRunning))
	select {
	case <-srv.Server.Recovered():
	case <-time.After(30 * time.Second):
		t.Fatal("recovery did not finish")
	}
	if st := getService(t, srv, last).Status; st.LifecycleState != api.ServiceStopped {
		t.Fatalf("recovery started a service a client stopped meanwhile: %+v", st)
	}
	// Every running sandbox is one instance: nothing was launched twice.
	var sbxs api.SandboxList
	do(t, srv, "GET", tp+"/sandboxes?limit=1000", nil).into(t, &sbxs)
	running := 0
	for _, s := range sbxs.Items {
		if s.Status.LifecycleState == api.SandboxRunning {
			running++
		}
	}
	if running != n {
		t.Fatalf("%d sandboxes running after recovery, want %d (%d services and the standalone one)", running, n, n-1)
	}
}

// TestRestartClosesSessionsWhoseTargetDidNotSurvive: after a restart, open
// sessions whose target is not running again on the same generation and
// instance are closed with a reason; a session on a built-in service that
// is running again on its generation stays open. They used to stay open.
func TestRestartClosesSessionsWhoseTargetDidNotSurvive(t *testing.T) {
	dir := t.TempDir()
	srv := testserver.Start(t, testserver.WithDataDir(dir))
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	mustCreate(t, srv, builtInService("lb", nil))
	mustCreate(t, srv, builtInService("relabelled", nil))
	mustCreate(t, srv, builtInService("gone", nil))
	for _, name := range []string{"api", "lb", "relabelled", "gone"} {
		do(t, srv, "POST", tp+"/services/"+name+"/start", nil)
		waitService(t, srv, name, readyOn(1))
	}
	sb := mustCreateSandbox(t, srv, standaloneSandbox("registry.example/job:1"))
	waitSandbox(t, srv, sb.Metadata.ID, sbxState(api.SandboxRunning))
	open := func(target api.SessionTarget) string {
		return openSession(t, srv, api.OpenSessionRequest{Target: target, Channels: []string{api.ChannelStdio}}).Metadata.ID
	}
	onAPI := open(api.SessionTarget{Service: &api.ServiceRef{Name: "api"}})
	onLB := open(api.SessionTarget{Service: &api.ServiceRef{Name: "lb"}})
	onRelabelled := open(api.SessionTarget{Service: &api.ServiceRef{Name: "relabelled"}})
	onGone := open(api.SessionTarget{Service: &api.ServiceRef{Name: "gone"}})
	onSandbox := open(api.SessionTarget{Sandbox: &api.SandboxRef{ID: sb.Metadata.ID}})
	// A label change moves the generation on without closing the session.
	expect(t, do(t, srv, "PATCH", tp+"/services/relabelled", map[string]any{"labels": map[string]string{"a": "b"}, "ifMatchGeneration": 1}), 200, "")
	srv.Stop()
	// A crash between deleting "gone" and closing its sessions.
	st, err := server.OpenBoltStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Delete("services", srv.Tenant, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	srv.Restart(t)

	for id, want := range map[string]string{
		onAPI:        `target service "api" did not survive a server restart`,
		onRelabelled: `target service "relabelled" did not survive a server restart (it is now on generation 2`,
		onGone:       `target service "gone" did not survive a server restart`,
		onSandbox:    "target sandbox " + sb.Metadata.ID + " did not survive a server restart",
	} {
		got := getSession(t, srv, id)
		if got.Status.LifecycleState != api.SessionClosed || !strings.Contains(got.Status.CloseReason, want) || got.Status.ClosedAt == nil {
			t.Errorf("session %s after restart: %+v, want closed with %q", id, got.Status, want)
		}
	}
	waitService(t, srv, "lb", readyOn(1))
	if got := getSession(t, srv, onLB); got.Status.LifecycleState != api.SessionOpen {
		t.Errorf("session on a built-in service running again on its generation: %+v, want open", got.Status)
	}
	// The closes are durable: another restart shows the same.
	srv.Restart(t)
	if got := getSession(t, srv, onAPI); got.Status.LifecycleState != api.SessionClosed {
		t.Errorf("closed session after a second restart: %+v", got.Status)
	}
	if got := getSession(t, srv, onLB); got.Status.LifecycleState != api.SessionOpen {
		t.Errorf("open session after a second restart: %+v", got.Status)
	}
}

func getSandbox(t testing.TB, srv *testserver.Server, id string) api.Sandbox {
	t.Helper()
	return decoded[api.Sandbox](t, do(t, srv, "GET", tp+"/sandboxes/"+id, nil), 200)
}

// TestRestartAdoptsTheSandboxOfACrashedStart: a crash after a service's new
// sandbox was stored but before the service naming it was leaves the
// sandbox unnamed. After the restart the service runs that sandbox: no
// second sandbox is created for it.
func TestRestartAdoptsTheSandboxOfACrashedStart(t *testing.T) {
	dir := t.TempDir()
	srv := testserver.Start(t, testserver.WithDataDir(dir))
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	do(t, srv, "POST", tp+"/services/api/start", nil)
	before := waitService(t, srv, "api", readyOn(1)).Status.SandboxID
	if before == "" {
		t.Fatal("a running sandbox-backed service names no sandbox")
	}
	srv.Stop()
	// The crash: the service record is the one stored before its sandbox
	// was named.
	st, err := server.OpenBoltStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	if err := st.Scan("services", store.Range{}, func(tenant, key string, b []byte) error {
		if tenant == srv.Tenant && key == "api" {
			data = b
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	status := rec["service"].(map[string]any)["status"].(map[string]any)
	delete(status, "sandboxId")
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put("services", srv.Tenant, "api", b); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	srv.Restart(t)
	after := waitService(t, srv, "api", readyOn(1)).Status.SandboxID
	if after != before {
		t.Errorf("after the restart the service runs sandbox %q, want its own %q", after, before)
	}
	var owned []string
	var sbxs api.SandboxList
	do(t, srv, "GET", tp+"/sandboxes?limit=1000", nil).into(t, &sbxs)
	for _, sb := range sbxs.Items {
		if sb.Spec.Owner.Kind == api.OwnerKindService && sb.Spec.Owner.ServiceName == "api" {
			owned = append(owned, sb.Metadata.ID)
		}
	}
	if len(owned) != 1 {
		t.Errorf("service api owns sandboxes %v after the restart, want exactly one", owned)
	}
}

package runtime

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// The test binary doubles as the sandbox process of the process-runtime
// tests: with NIMBUS_TEST_HELPER set it acts as that process.
func TestMain(m *testing.M) {
	switch os.Getenv("NIMBUS_TEST_HELPER") {
	case "listen":
		l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
		if err != nil {
			os.Exit(3)
		}
		if os.Getenv("SECRET_VALUE") != "s3cr3t" {
			os.Exit(4) // the sandbox environment did not arrive
		}
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(5)
			}
			_ = c.Close()
		}
	case "exit7":
		os.Exit(7)
	}
	os.Exit(m.Run())
}

type recorder struct {
	mu     sync.Mutex
	events []Event
	ch     chan Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 16)} }

func (r *recorder) report(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.ch <- e
}

func (r *recorder) next(t *testing.T) Event {
	t.Helper()
	select {
	case e := <-r.ch:
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no runtime event within 20s")
		return Event{}
	}
}

func spec(image string, argv []string, env map[string]string) Spec {
	return Spec{ID: "sbx-test1", TenantID: "acc", Profile: api.ProfileWorker, Sandbox: api.SandboxSpec{
		Owner: api.Owner{Kind: api.OwnerKindStandalone}, Backend: api.RuntimeContainer,
		Root:    api.Root{Kind: api.RootKindOCIImage, Source: api.RootSource{Kind: api.SourceKindReference, Reference: image}},
		Process: api.Process{Argv: api.RedactableList{Values: argv}, Environment: api.RedactableMap{Values: env}},
	}}
}

// manualAfter hands out channels the test fires itself.
type manualAfter struct{ waits chan chan time.Time }

func (m *manualAfter) after(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	m.waits <- c
	return c
}

func (m *manualAfter) fire(t *testing.T) {
	t.Helper()
	select {
	case c := <-m.waits:
		c <- time.Now()
	case <-time.After(10 * time.Second):
		t.Fatal("the runtime is not waiting on the clock")
	}
}

func TestSimulatedLifecycle(t *testing.T) {
	clk := &manualAfter{waits: make(chan chan time.Time, 4)}
	rt := NewSimulated(SimulatedOptions{StartDelay: time.Hour, StopDelay: time.Hour, After: clk.after})
	rec := newRecorder()
	inst, err := rt.Start(context.Background(), spec("docker.io/library/alpine:3", []string{"sleep"}, nil), rec.report)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-rec.ch:
		t.Fatalf("reported %v before the start delay passed", e)
	case <-time.After(20 * time.Millisecond):
	}
	clk.fire(t)
	e := rec.next(t)
	if e.State != api.SandboxRunning || len(e.Endpoints) == 0 || !strings.Contains(e.Endpoints[0].URL, "sbx-test1") {
		t.Fatalf("want running with endpoints, got %+v", e)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- inst.Stop(context.Background()) }()
	clk.fire(t)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if e := rec.next(t); e.State != api.SandboxStopped {
		t.Fatalf("want stopped, got %+v", e)
	}
}

func TestSimulatedFailureIsDeterministic(t *testing.T) {
	rt := NewSimulated(SimulatedOptions{})
	rec := newRecorder()
	if _, err := rt.Start(context.Background(), spec("example.com/app:fail", nil, nil), rec.report); err != nil {
		t.Fatal(err)
	}
	e := rec.next(t)
	if e.State != api.SandboxFailed || e.ExitCode == nil || *e.ExitCode != 1 || !strings.Contains(e.Message, "failed to start") {
		t.Fatalf("want a failed event, got %+v", e)
	}
}

func TestSimulatedStopBeforeRunning(t *testing.T) {
	rt := NewSimulated(SimulatedOptions{StartDelay: time.Hour})
	rec := newRecorder()
	inst, err := rt.Start(context.Background(), spec("alpine", nil, nil), rec.report)
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e := rec.next(t); e.State != api.SandboxStopped {
		t.Fatalf("want stopped, got %+v", e)
	}
}

func TestProcessRunsRealChildOnPort(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rt := NewProcess(ProcessOptions{StartTimeout: 20 * time.Second, StopGrace: 5 * time.Second})
	rec := newRecorder()
	inst, err := rt.Start(context.Background(), spec("local", []string{exe}, map[string]string{"NIMBUS_TEST_HELPER": "listen", "SECRET_VALUE": "s3cr3t"}), rec.report)
	if err != nil {
		t.Fatal(err)
	}
	e := rec.next(t)
	if e.State != api.SandboxRunning {
		t.Fatalf("want running, got %+v", e)
	}
	addr := strings.TrimPrefix(e.Endpoints[0].URL, "http://")
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("the child does not listen on its endpoint %s: %v", addr, err)
	}
	_ = c.Close()
	if err := inst.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e := rec.next(t); e.State != api.SandboxStopped {
		t.Fatalf("want stopped, got %+v", e)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("the child still listens after Stop")
	}
}

func TestProcessExitNonZeroFails(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rt := NewProcess(ProcessOptions{StartTimeout: 20 * time.Second})
	rec := newRecorder()
	if _, err := rt.Start(context.Background(), spec("local", []string{exe, "--secret-arg"}, map[string]string{"NIMBUS_TEST_HELPER": "exit7"}), rec.report); err != nil {
		t.Fatal(err)
	}
	e := rec.next(t)
	if e.State != api.SandboxFailed || e.ExitCode == nil || *e.ExitCode != 7 {
		t.Fatalf("want failed with exit code 7, got %+v", e)
	}
	if strings.Contains(e.Message, "secret-arg") || strings.Contains(e.Message, "exit7") {
		t.Fatalf("message leaks launch inputs: %q", e.Message)
	}
}

func TestProcessMissingBinary(t *testing.T) {
	rt := NewProcess(ProcessOptions{})
	_, err := rt.Start(context.Background(), spec("local", []string{"/nonexistent/secret-tool"}, nil), func(Event) {})
	if err == nil || strings.Contains(err.Error(), "secret-tool") {
		t.Fatalf("want an error that does not echo argv, got %v", err)
	}
}

func TestHealthChecker(t *testing.T) {
	var healthy atomic.Bool
	var sawToken atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawToken.Store(r.Header.Get("Authorization"))
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	h := NewHealthChecker(2 * time.Second)
	auth := &api.ExternalAuth{Kind: api.AuthKindBearer, Token: &api.Secret{Value: "tok-123"}}
	ok, detail := h.Check(context.Background(), srv.URL, "/healthz", auth)
	if ok || !strings.Contains(detail, "HTTP 503") || strings.Contains(detail, "tok-123") {
		t.Fatalf("want unhealthy 503 without token, got %v %q", ok, detail)
	}
	if sawToken.Load() != "Bearer tok-123" {
		t.Fatalf("bearer token not sent: %v", sawToken.Load())
	}
	healthy.Store(true)
	if ok, detail := h.Check(context.Background(), srv.URL+"/", "/healthz", nil); !ok {
		t.Fatalf("want healthy, got %q", detail)
	}
	// A dead loopback port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("http://%s", l.Addr())
	_ = l.Close()
	if ok, detail := h.Check(context.Background(), dead, "/healthz", nil); ok || !strings.Contains(detail, "connection refused") {
		t.Fatalf("want connection refused, got %v %q", ok, detail)
	}
}

func TestHealthMonitorTurnsHealthy(t *testing.T) {
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if healthy.Load() {
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	m := NewHealthMonitor(NewHealthChecker(time.Second), 10*time.Millisecond, nil, nil)
	defer m.Close()
	results := make(chan HealthResult, 100)
	m.Watch("acc/ext", srv.URL, "/", nil, func(r HealthResult) {
		select {
		case results <- r:
		default:
		}
	})
	if r := <-results; r.Healthy {
		t.Fatal("healthy before the endpoint was")
	}
	healthy.Store(true)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-results:
			if r.Healthy {
				m.Unwatch("acc/ext")
				return
			}
		case <-deadline:
			t.Fatal("never turned healthy")
		}
	}
}

package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// fakeObject is one service served by fakeServer, with optional long-poll
// support.
type fakeServer struct {
	t        *testing.T
	longPoll bool

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	svc     api.Service
	sbx     api.Sandbox
	rv      int
	gets    int
	lpGets  int // GETs that carried changedSince
	actions []string
}

func newFakeServer(t *testing.T, longPoll bool) (*fakeServer, *Client) {
	f := &fakeServer{t: t, longPoll: longPoll, changed: make(chan struct{})}
	f.svc = api.Service{Metadata: api.ObjectMeta{Name: "worker", TenantID: "acc", Generation: 1},
		Status: api.ServiceStatus{LifecycleState: api.ServiceStopped, Readiness: api.ReadinessNotReady, Health: api.HealthUnknown}}
	f.sbx = api.Sandbox{Metadata: api.ObjectMeta{ID: "sbx-1", TenantID: "acc", Generation: 1},
		Status: api.SandboxStatus{LifecycleState: api.SandboxStarting}}
	f.bump()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, newTestClient(t, srv.URL)
}

// bump records a change; call with mu held (or before serving).
func (f *fakeServer) bump() {
	f.rv++
	f.svc.Metadata.ResourceVersion = strconv.Itoa(f.rv)
	f.sbx.Metadata.ResourceVersion = strconv.Itoa(f.rv)
	close(f.changed)
	f.changed = make(chan struct{})
}

// set changes the service's status.
func (f *fakeServer) set(mod func(s *api.Service, b *api.Sandbox)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mod(&f.svc, &f.sbx)
	f.bump()
}

func (f *fakeServer) counts() (gets, lpGets int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets, f.lpGets
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	switch {
	case r.Method == http.MethodGet:
		f.gets++
		if cs := r.URL.Query().Get(api.QueryChangedSince); cs != "" {
			f.lpGets++
			if f.longPoll && cs == strconv.Itoa(f.rv) {
				ms, _ := strconv.Atoi(r.URL.Query().Get(api.QueryWaitMs))
				ch := f.changed
				f.mu.Unlock()
				select {
				case <-ch:
				case <-time.After(time.Duration(ms) * time.Millisecond):
				case <-r.Context().Done():
				}
				f.mu.Lock()
			}
		}
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/start"):
		f.actions = append(f.actions, "start")
		f.svc.Status.LifecycleState = api.ServiceStarting
		f.bump()
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/stop"):
		f.actions = append(f.actions, "stop")
		f.svc.Status.LifecycleState = api.ServiceStopping
		f.sbx.Status.LifecycleState = api.SandboxStopping
		f.bump()
	}
	var v any = f.svc
	if strings.Contains(r.URL.Path, "/sandboxes/") {
		v = f.sbx
	}
	b, _ := json.Marshal(v)
	f.mu.Unlock()
	_, _ = w.Write(b)
}

func running(gen int64) func(s *api.Service, b *api.Sandbox) {
	return func(s *api.Service, b *api.Sandbox) {
		s.Status.LifecycleState = api.ServiceRunning
		s.Status.Readiness = api.ReadinessReady
		s.Status.ObservedGeneration = gen
	}
}

func TestWait_LongPollWakesPromptly(t *testing.T) {
	f, c := newFakeServer(t, true)
	ctx := t.Context()
	go func() {
		time.Sleep(150 * time.Millisecond)
		f.set(func(s *api.Service, b *api.Sandbox) { s.Status.LifecycleState = api.ServiceStarting })
		time.Sleep(150 * time.Millisecond)
		f.set(running(1))
	}()
	start := time.Now()
	// An interval of 10s proves the wait is driven by the long-poll, not polling.
	svc, err := c.Services.Wait(ctx, "worker", WaitOptions{Until: "ready", Interval: 10 * time.Second, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("wait took %s", d)
	}
	if !ServiceReady(svc) {
		t.Fatalf("returned %+v", svc.Status)
	}
	gets, lp := f.counts()
	// One plain GET, then one long-poll per change (a loaded machine may
	// fold both changes into one).
	if gets < 2 || gets > 3 || lp != gets-1 {
		t.Fatalf("gets=%d long-poll gets=%d, want 3 and 2", gets, lp)
	}
}

func TestWait_FallsBackToPolling(t *testing.T) {
	f, c := newFakeServer(t, false)
	go func() {
		time.Sleep(300 * time.Millisecond)
		f.set(running(1))
	}()
	start := time.Now()
	svc, err := c.Services.Wait(t.Context(), "worker", WaitOptions{Until: "ready", Interval: 20 * time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second || !ServiceReady(svc) {
		t.Fatalf("took %s, status %+v", d, svc.Status)
	}
	gets, lp := f.counts()
	// One plain GET, one long-poll probe answered at once, then polling.
	if lp != 1 || gets < 3 || gets > 40 {
		t.Fatalf("gets=%d long-poll probes=%d", gets, lp)
	}
}

func TestWait_ReadyNeedsObservedGeneration(t *testing.T) {
	f, c := newFakeServer(t, true)
	f.set(func(s *api.Service, b *api.Sandbox) {
		s.Metadata.Generation = 2
		running(1)(s, b) // running and ready, but for the old generation
	})
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.set(running(2))
	}()
	svc, err := c.Services.Wait(t.Context(), "worker", WaitOptions{Until: "ready", Timeout: 5 * time.Second})
	if err != nil || svc.Status.ObservedGeneration != 2 {
		t.Fatalf("svc=%+v err=%v", svc, err)
	}
}

func TestWait_HealthyNeedsHealth(t *testing.T) {
	f, c := newFakeServer(t, true)
	f.set(running(1))
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.set(func(s *api.Service, b *api.Sandbox) { s.Status.Health = api.HealthHealthy })
	}()
	svc, err := c.Services.Wait(t.Context(), "worker", WaitOptions{Until: "healthy", Timeout: 5 * time.Second})
	if err != nil || svc.Status.Health != api.HealthHealthy {
		t.Fatalf("svc=%+v err=%v", svc, err)
	}
}

func TestWait_FailedEndsAtOnce(t *testing.T) {
	f, c := newFakeServer(t, true)
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.set(func(s *api.Service, b *api.Sandbox) {
			s.Status.LifecycleState = api.ServiceFailed
			s.Status.Message = "process exited with code 3"
		})
	}()
	start := time.Now()
	_, err := c.Services.Wait(t.Context(), "worker", WaitOptions{Until: "ready", Timeout: 20 * time.Second})
	var we *WaitError
	if !errors.As(err, &we) || !we.Failed || !IsWaitFailed(err) || IsWaitTimeout(err) {
		t.Fatalf("want failed WaitError, got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("failed state did not end the wait at once")
	}
	if we.LastState != api.ServiceFailed || !strings.Contains(err.Error(), "process exited with code 3") || we.Last == nil {
		t.Fatalf("error lacks the server message: %v", err)
	}
}

func TestWait_DeadlineCarriesLastStatus(t *testing.T) {
	for _, lp := range []bool{true, false} {
		t.Run(fmt.Sprintf("longPoll=%v", lp), func(t *testing.T) {
			f, c := newFakeServer(t, lp)
			f.set(func(s *api.Service, b *api.Sandbox) {
				s.Metadata.Generation = 4
				s.Status.LifecycleState = api.ServiceStarting
				s.Status.ObservedGeneration = 3
				s.Status.Message = "pulling image"
			})
			start := time.Now()
			_, err := c.Services.Wait(t.Context(), "worker", WaitOptions{Until: "ready", Timeout: 400 * time.Millisecond, Interval: 50 * time.Millisecond})
			d := time.Since(start)
			if !IsWaitTimeout(err) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("want timeout WaitError, got %v", err)
			}
			if d < 400*time.Millisecond || d > 3*time.Second {
				t.Fatalf("timed out after %s", d)
			}
			for _, want := range []string{"400ms", `service "worker"`, "ready", "state starting", "readiness notReady", "health unknown", "observedGeneration 3 of generation 4", `"pulling image"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q lacks %q", err, want)
				}
			}
		})
	}
}

func TestWait_ContextDeadlineAndCancel(t *testing.T) {
	_, c := newFakeServer(t, true)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Services.Wait(ctx, "worker", WaitOptions{Until: "ready"}) // Timeout 0: until ctx deadline
	var we *WaitError
	if !errors.As(err, &we) || we.Timeout > 300*time.Millisecond || we.LastState != api.ServiceStopped {
		t.Fatalf("want WaitError at the ctx deadline, got %v", err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err = c.Services.Wait(ctx, "worker", WaitOptions{Until: "ready", Timeout: 10 * time.Second})
	if !errors.Is(err, context.Canceled) || IsWaitTimeout(err) {
		t.Fatalf("cancel: %v", err)
	}
}

func TestWait_InvalidUntil(t *testing.T) {
	_, c := newFakeServer(t, true)
	if _, err := c.Services.Wait(t.Context(), "worker", WaitOptions{Until: "running"}); err == nil {
		t.Fatal("services cannot wait for running")
	}
	if _, err := c.Sandboxes.Wait(t.Context(), "sbx-1", WaitOptions{Until: "ready"}); err == nil {
		t.Fatal("sandboxes cannot wait for ready")
	}
}

func TestActions_WaitUntil(t *testing.T) {
	f, c := newFakeServer(t, true)
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.set(running(1))
	}()
	svc, err := c.Services.Start(t.Context(), "worker", ActionOptions{WaitUntil: "ready", Timeout: 5 * time.Second})
	if err != nil || !ServiceReady(svc) {
		t.Fatalf("start: %+v %v", svc, err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.set(func(s *api.Service, b *api.Sandbox) { s.Status.LifecycleState = api.ServiceStopped })
	}()
	svc, err = c.Services.Stop(t.Context(), "worker", ActionOptions{WaitUntil: "stopped", Timeout: 5 * time.Second})
	if err != nil || svc.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("stop: %+v %v", svc, err)
	}
	if strings.Join(f.actions, ",") != "start,stop" {
		t.Fatalf("actions %v", f.actions)
	}
}

func TestSandboxWait(t *testing.T) {
	f, c := newFakeServer(t, true)
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.set(func(s *api.Service, b *api.Sandbox) { b.Status.LifecycleState = api.SandboxRunning })
	}()
	sb, err := c.Sandboxes.Wait(t.Context(), "sbx-1", WaitOptions{Until: "running", Timeout: 5 * time.Second})
	if err != nil || sb.Status.LifecycleState != api.SandboxRunning {
		t.Fatalf("%+v %v", sb, err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.set(func(s *api.Service, b *api.Sandbox) {
			code := 1
			b.Status.LifecycleState, b.Status.ExitCode, b.Status.Message = api.SandboxFailed, &code, "exited with code 1"
		})
	}()
	_, err = c.Sandboxes.Stop(t.Context(), "sbx-1", ActionOptions{WaitUntil: "stopped", Timeout: 5 * time.Second})
	if !IsWaitFailed(err) || !strings.Contains(err.Error(), "exit code 1") {
		t.Fatalf("want failed wait naming the exit code, got %v", err)
	}
}

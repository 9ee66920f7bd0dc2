package runtimes

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
)

func TestSimulatedLifecycleOnFakeClock(t *testing.T) {
	for _, backend := range []string{api.RuntimeContainer, api.RuntimeKrun} {
		t.Run(backend, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			rt := NewSimulated(SimulatedOptions{StartDelay: 2 * time.Second, StopDelay: time.Second, Clock: clk})
			rec := newRecorder()
			sp := spec("docker.io/library/alpine:3", []string{"sleep"}, nil)
			sp.Sandbox.Backend = backend
			inst, err := rt.Start(t.Context(), sp, rec.report)
			if err != nil {
				t.Fatal(err)
			}
			clk.BlockUntil(1)
			clk.Advance(2*time.Second - time.Nanosecond)
			rec.none(t, 20*time.Millisecond)
			clk.Advance(time.Nanosecond)
			e := rec.next(t)
			if e.State != api.SandboxRunning || len(e.Endpoints) != 1 || e.Endpoints[0].Name != "http" ||
				!strings.HasPrefix(e.Endpoints[0].URL, "http://sbx-test1.sandbox.nimbus.local:") {
				t.Fatalf("want running with an http endpoint, got %+v", e)
			}
			if !strings.Contains(e.Message, backend) {
				t.Errorf("message %q does not name the backend", e.Message)
			}
			stopped := make(chan error, 1)
			go func() { stopped <- inst.Stop(t.Context()) }()
			clk.BlockUntil(1)
			select {
			case err := <-stopped:
				t.Fatalf("Stop returned %v before the stop delay passed", err)
			default:
			}
			clk.Advance(time.Second)
			if err := <-stopped; err != nil {
				t.Fatal(err)
			}
			if e := rec.next(t); e.State != api.SandboxStopped {
				t.Fatalf("want stopped, got %+v", e)
			}
			// Stop is idempotent and reports nothing more.
			if err := inst.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			rec.none(t, 10*time.Millisecond)
		})
	}
}

func TestSimulatedEndpointsAreUnique(t *testing.T) {
	rt := NewSimulated(SimulatedOptions{})
	seen := map[string]bool{}
	for range 5 {
		rec := newRecorder()
		sp := spec("alpine", nil, nil)
		sp.Profile = api.ProfileDesktop
		inst, err := rt.Start(t.Context(), sp, rec.report)
		if err != nil {
			t.Fatal(err)
		}
		e := rec.next(t)
		if len(e.Endpoints) != 2 || e.Endpoints[1].Name != "cdp" {
			t.Fatalf("desktop sandbox: want http and cdp endpoints, got %+v", e.Endpoints)
		}
		for _, ep := range e.Endpoints {
			if seen[ep.URL] {
				t.Fatalf("endpoint %s handed out twice", ep.URL)
			}
			seen[ep.URL] = true
		}
		if err := inst.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSimulatedFailureIsDeterministic(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	rt := NewSimulated(SimulatedOptions{StartDelay: time.Second, Clock: clk})
	rec := newRecorder()
	inst, err := rt.Start(t.Context(), spec("fail.nimbus.invalid/crash:1", nil, nil), rec.report)
	if err != nil {
		t.Fatal(err)
	}
	clk.BlockUntil(1)
	rec.none(t, 10*time.Millisecond)
	clk.Advance(time.Second)
	e := rec.next(t)
	if e.State != api.SandboxFailed || e.ExitCode == nil || *e.ExitCode != 1 ||
		!strings.Contains(e.Message, `image "fail.nimbus.invalid/crash:1" failed to start`) {
		t.Fatalf("want a failed event naming the image, got %+v", e)
	}
	// Stopping a failed instance returns at once and reports nothing.
	if err := inst.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec.none(t, 10*time.Millisecond)
}

func TestSimulatedStopBeforeRunning(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	rt := NewSimulated(SimulatedOptions{StartDelay: time.Hour, Clock: clk})
	rec := newRecorder()
	inst, err := rt.Start(t.Context(), spec("alpine", nil, nil), rec.report)
	if err != nil {
		t.Fatal(err)
	}
	clk.BlockUntil(1)
	if err := inst.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e := rec.next(t); e.State != api.SandboxStopped {
		t.Fatalf("want stopped, got %+v", e)
	}
	if n := clk.Timers(); n != 0 {
		t.Fatalf("%d timers left pending after Stop", n)
	}
	clk.Advance(time.Hour)
	rec.none(t, 10*time.Millisecond)
}

func TestSimulatedStopHonoursContext(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	rt := NewSimulated(SimulatedOptions{StopDelay: time.Minute, Clock: clk})
	rec := newRecorder()
	inst, err := rt.Start(t.Context(), spec("alpine", nil, nil), rec.report)
	if err != nil {
		t.Fatal(err)
	}
	if e := rec.next(t); e.State != api.SandboxRunning {
		t.Fatalf("want running, got %+v", e)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := inst.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded while the stop delay runs, got %v", err)
	}
	clk.BlockUntil(1)
	clk.Advance(time.Minute)
	if e := rec.next(t); e.State != api.SandboxStopped {
		t.Fatalf("want stopped, got %+v", e)
	}
}

func TestSimulatedCloseReportsNothing(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	rt := NewSimulated(SimulatedOptions{StartDelay: time.Second, StopDelay: time.Minute, Clock: clk})
	running, starting := newRecorder(), newRecorder()
	if _, err := rt.Start(t.Context(), spec("alpine", nil, nil), running.report); err != nil {
		t.Fatal(err)
	}
	clk.BlockUntil(1)
	clk.Advance(time.Second)
	if e := running.next(t); e.State != api.SandboxRunning {
		t.Fatalf("want running, got %+v", e)
	}
	if _, err := rt.Start(t.Context(), spec("alpine", nil, nil), starting.report); err != nil {
		t.Fatal(err)
	}
	clk.BlockUntil(1)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	running.none(t, 10*time.Millisecond)
	starting.none(t, 10*time.Millisecond)
	if n := clk.Timers(); n != 0 {
		t.Fatalf("%d timers left pending after Close", n)
	}
}

func TestSimulatedLegacyAfter(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	rt := NewSimulated(SimulatedOptions{StartDelay: time.Second, After: clk.After})
	rec := newRecorder()
	if _, err := rt.Start(t.Context(), spec("alpine", nil, nil), rec.report); err != nil {
		t.Fatal(err)
	}
	clk.BlockUntil(1)
	clk.Advance(time.Second)
	if e := rec.next(t); e.State != api.SandboxRunning {
		t.Fatalf("want running, got %+v", e)
	}
}

// TestSimulatedFailsOnlyTheReservedHost: only images from
// fail.nimbus.invalid fail; a name that merely contains "fail" runs.
func TestSimulatedFailsOnlyTheReservedHost(t *testing.T) {
	for image, want := range map[string]bool{
		"fail.nimbus.invalid/crash:1":           true,
		"FAIL.nimbus.invalid/x":                 true,
		"registry.example.com/failover-proxy:1": false,
		"example.com/app:fail":                  false,
		"fail/app:1":                            false,
		"fail.nimbus.invalid.example.com/app:1": false,
		"docker.io/library/fail.nimbus.invalid": false,
	} {
		if got := SimulatedFails(image); got != want {
			t.Errorf("SimulatedFails(%q) = %v, want %v", image, got, want)
		}
	}
	rt := NewSimulated(SimulatedOptions{})
	rec := newRecorder()
	if _, err := rt.Start(t.Context(), spec("registry.example.com/failover-proxy:1", nil, nil), rec.report); err != nil {
		t.Fatal(err)
	}
	if e := rec.next(t); e.State != api.SandboxRunning {
		t.Fatalf("failover-proxy: %+v, want running", e)
	}
}

package runtimes

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
)

// FailHost is the reserved image registry host whose images the simulated
// runtime fails to start, so failure paths can be tried without a real
// runtime: e.g. image "fail.nimbus.invalid/crash:1". ".invalid" is reserved
// (RFC 2606), so no real image reference is affected.
const FailHost = "fail.nimbus.invalid"

// SimulatedFails reports whether the simulated runtime fails to start image:
// exactly the references whose registry host is FailHost.
func SimulatedFails(image string) bool {
	host, _, ok := strings.Cut(image, "/")
	return ok && strings.EqualFold(host, FailHost)
}

// SimulatedOptions configures the simulated runtime.
type SimulatedOptions struct {
	// StartDelay and StopDelay are how long starting and stopping take.
	StartDelay time.Duration
	StopDelay  time.Duration
	// Clock times the delays; tests inject a *clock.Fake. It takes
	// precedence over After.
	Clock clock.Clock
	// After waits for a duration when Clock is nil; nil means time.After.
	After func(time.Duration) <-chan time.Time
	// Domain is the DNS suffix of allocated endpoints; default
	// "sandbox.nimbus.local".
	Domain string
}

// Simulated is a deterministic runtime that runs nothing. The "container"
// and "krun" backends behave alike:
//
//   - a launch reports running after StartDelay, with the endpoint
//     "http" = http://<sandbox id>.<Domain>:<port>, where port comes from a
//     counter starting at 30001 (unique per runtime), and for the desktop
//     profile also "cdp" = ws://<sandbox id>.<Domain>:<port+10000>/devtools;
//   - a launch of an image from the reserved host FailHost
//     ("fail.nimbus.invalid/…") reports failed after StartDelay, with exit
//     code 1 and a message naming the image; every other image runs;
//   - Stop reports stopped after StopDelay (at once if it was not running).
type Simulated struct {
	opts     SimulatedOptions
	nextPort atomic.Int64

	mu        sync.Mutex
	instances map[*simInstance]struct{}
}

var _ Runtime = (*Simulated)(nil)

// NewSimulated returns a simulated runtime.
func NewSimulated(opts SimulatedOptions) *Simulated {
	if opts.Domain == "" {
		opts.Domain = "sandbox.nimbus.local"
	}
	s := &Simulated{opts: opts, instances: map[*simInstance]struct{}{}}
	s.nextPort.Store(30000)
	return s
}

// Name implements Runtime.
func (s *Simulated) Name() string { return "simulated" }

// delay returns a channel that fires after d, and a func that releases the
// underlying timer early.
func (s *Simulated) delay(d time.Duration) (<-chan time.Time, func()) {
	switch {
	case s.opts.Clock != nil:
		t := s.opts.Clock.NewTimer(d)
		return t.C(), func() { t.Stop() }
	case s.opts.After != nil:
		return s.opts.After(d), func() {}
	default:
		t := time.NewTimer(d)
		return t.C, func() { t.Stop() }
	}
}

// Start implements Runtime.
func (s *Simulated) Start(_ context.Context, spec Spec, report func(Event)) (Instance, error) {
	inst := &simInstance{report: report, stopReq: make(chan struct{}), detachReq: make(chan struct{}), done: make(chan struct{})}
	port := s.nextPort.Add(1)
	endpoints := []api.Endpoint{{Name: "http", URL: fmt.Sprintf("http://%s.%s:%d", spec.ID, s.opts.Domain, port)}}
	if spec.Profile == api.ProfileDesktop {
		endpoints = append(endpoints, api.Endpoint{Name: "cdp", URL: fmt.Sprintf("ws://%s.%s:%d/devtools", spec.ID, s.opts.Domain, port+10000)})
	}
	image := spec.Sandbox.Root.Source.Reference
	fail := SimulatedFails(image)
	backend := spec.Sandbox.Backend
	if backend == "" {
		backend = api.RuntimeContainer
	}
	s.mu.Lock()
	s.instances[inst] = struct{}{}
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.instances, inst)
			s.mu.Unlock()
			close(inst.done)
		}()
		started, release := s.delay(s.opts.StartDelay)
		select {
		case <-started:
		case <-inst.stopReq:
			release()
			inst.emit(Event{State: api.SandboxStopped, Message: "stopped before it started"}, true)
			return
		}
		if fail {
			code := 1
			inst.emit(Event{State: api.SandboxFailed, ExitCode: &code, Message: fmt.Sprintf(
				"simulated %s runtime: image %q failed to start (exit code 1); the simulated runtime fails every image from %s/",
				backend, image, FailHost)}, true)
			return
		}
		inst.emit(Event{State: api.SandboxRunning, Endpoints: endpoints,
			Message: fmt.Sprintf("running on the simulated %s runtime", backend)}, false)
		<-inst.stopReq
		if inst.isDetached() {
			return
		}
		stopped, release := s.delay(s.opts.StopDelay)
		select {
		case <-stopped:
		case <-inst.detachReq:
			release()
			return
		}
		inst.emit(Event{State: api.SandboxStopped, Message: "stopped"}, true)
	}()
	return inst, nil
}

// Close ends every instance at once without reporting anything: the server
// calls it on shutdown and launches the sandboxes again when it next starts.
func (s *Simulated) Close(ctx context.Context) error {
	s.mu.Lock()
	insts := make([]*simInstance, 0, len(s.instances))
	for i := range s.instances {
		insts = append(insts, i)
	}
	s.mu.Unlock()
	for _, i := range insts {
		i.detach()
	}
	for _, i := range insts {
		select {
		case <-i.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type simInstance struct {
	report     func(Event)
	stopOnce   sync.Once
	stopReq    chan struct{}
	detachOnce sync.Once
	detachReq  chan struct{}
	done       chan struct{}

	mu       sync.Mutex
	final    bool
	detached bool
}

func (i *simInstance) emit(e Event, final bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.final || i.detached {
		return
	}
	i.final = final
	i.report(e)
}

func (i *simInstance) isDetached() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.detached
}

// detach silences the instance and ends it without a report.
func (i *simInstance) detach() {
	i.mu.Lock()
	i.detached = true
	i.mu.Unlock()
	i.detachOnce.Do(func() { close(i.detachReq) })
	i.stopOnce.Do(func() { close(i.stopReq) })
}

// Stop implements Instance.
func (i *simInstance) Stop(ctx context.Context) error {
	i.stopOnce.Do(func() { close(i.stopReq) })
	select {
	case <-i.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

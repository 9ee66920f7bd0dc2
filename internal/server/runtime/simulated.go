package runtime

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// FailMarker is the image-reference substring that makes the simulated
// runtime fail a launch deterministically, so failure paths can be tried
// without a real runtime: e.g. image "example.com/app:fail".
const FailMarker = "fail"

// SimulatedOptions configures the simulated runtime.
type SimulatedOptions struct {
	// StartDelay and StopDelay are how long starting and stopping take.
	StartDelay time.Duration
	StopDelay  time.Duration
	// After waits for a duration; nil means time.After. Tests inject a fake
	// clock's After to drive the runtime deterministically.
	After func(time.Duration) <-chan time.Time
	// Domain is the DNS suffix of allocated endpoints; default
	// "sandbox.nimbus.local".
	Domain string
}

// Simulated is a deterministic runtime that runs nothing: a launch becomes
// running after StartDelay with endpoints https://<id>.<domain>:<port>, and
// fails at once when the image reference contains FailMarker.
type Simulated struct {
	opts     SimulatedOptions
	nextPort atomic.Int64
}

// NewSimulated returns a simulated runtime.
func NewSimulated(opts SimulatedOptions) *Simulated {
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Domain == "" {
		opts.Domain = "sandbox.nimbus.local"
	}
	s := &Simulated{opts: opts}
	s.nextPort.Store(30000)
	return s
}

// Name implements Runtime.
func (s *Simulated) Name() string { return "simulated" }

// Start implements Runtime.
func (s *Simulated) Start(ctx context.Context, spec Spec, report func(Event)) (Instance, error) {
	inst := &simInstance{rt: s, report: report, stopReq: make(chan struct{}), done: make(chan struct{})}
	port := s.nextPort.Add(1)
	endpoints := []api.Endpoint{{Name: "http", URL: fmt.Sprintf("http://%s.%s:%d", spec.ID, s.opts.Domain, port)}}
	if spec.Profile == api.ProfileDesktop {
		endpoints = append(endpoints, api.Endpoint{Name: "cdp", URL: fmt.Sprintf("ws://%s.%s:%d/devtools", spec.ID, s.opts.Domain, port+10000)})
	}
	fail := strings.Contains(spec.Sandbox.Root.Source.Reference, FailMarker)
	go func() {
		defer close(inst.done)
		select {
		case <-s.opts.After(s.opts.StartDelay):
		case <-inst.stopReq:
			inst.finish(Event{State: api.SandboxStopped, Message: "stopped before it started"})
			return
		}
		if fail {
			code := 1
			inst.finish(Event{State: api.SandboxFailed, ExitCode: &code,
				Message: fmt.Sprintf("simulated runtime: image %q failed to start (exit code 1)", spec.Sandbox.Root.Source.Reference)})
			return
		}
		inst.emit(Event{State: api.SandboxRunning, Endpoints: endpoints,
			Message: fmt.Sprintf("running on the simulated %s runtime", spec.Sandbox.Backend)})
		<-inst.stopReq
		<-s.opts.After(s.opts.StopDelay)
		inst.finish(Event{State: api.SandboxStopped, Message: "stopped"})
	}()
	return inst, nil
}

type simInstance struct {
	rt       *Simulated
	report   func(Event)
	mu       sync.Mutex
	final    bool
	stopOnce sync.Once
	stopReq  chan struct{}
	done     chan struct{}
}

func (i *simInstance) emit(e Event) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.final {
		i.report(e)
	}
}

func (i *simInstance) finish(e Event) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.final {
		i.final = true
		i.report(e)
	}
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

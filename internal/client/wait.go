package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// WaitOptions controls a wait.
type WaitOptions struct {
	// Until is the target: "ready" | "healthy" | "stopped" for services,
	// "running" | "stopped" for sandboxes.
	Until string
	// Timeout bounds the wait (default 30s). With Timeout <= 0 and a context
	// deadline, the wait lasts until the context deadline.
	Timeout time.Duration
	// Interval is the polling interval used when the server does not support
	// long-polling (default 250ms).
	Interval time.Duration
	// Progress, if set, is called with a summary of the object's status
	// (such as "state starting, readiness notReady, …") whenever the summary
	// differs from the one it last reported, starting with the first read.
	Progress func(summary string)
}

// getter reads one object. With changedSince != "" and wait > 0 it
// long-polls: the server answers when the object's resourceVersion differs
// from changedSince, or after wait. It returns the object and its
// resourceVersion.
type getter[T any] func(ctx context.Context, changedSince string, wait time.Duration) (T, string, error)

// checker decides whether a wait is over: done, or a terminal error (such as
// a failed state).
type checker[T any] func(T) (done bool, err error)

// waitParams describe a wait for error messages.
type waitParams[T any] struct {
	kind, name, until string
	timeout, interval time.Duration
	// describe summarises an object's status for error messages.
	describe func(T) (state, message, summary string)
	// progress, if set, is told every new status summary (WaitOptions.Progress).
	progress func(summary string)
}

// longPollIgnoredThreshold: a long-poll that returns the same resourceVersion
// in less than a quarter of the requested wait means the server ignored the
// long-poll parameters; the wait falls back to polling at the interval.
const minLongPollProbe = 200 * time.Millisecond

// waitFor is the one wait loop behind every Wait: it reads the object,
// checks it, and long-polls for the next change until check says done, check
// fails, or the deadline passes. Against a server without long-poll support
// it polls at the interval.
func waitFor[T any](ctx context.Context, get getter[T], check checker[T], p waitParams[T]) (T, error) {
	var zero T
	if p.interval <= 0 {
		p.interval = DefaultWaitInterval
	}
	timeout := p.timeout
	if timeout <= 0 {
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		} else {
			timeout = DefaultWaitTimeout
		}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var (
		last     T
		haveLast bool
		rv       string
		longPoll = true
		reported string
	)
	timeoutErr := func(cause error) error {
		we := &WaitError{Kind: p.kind, Name: p.name, Until: p.until, Timeout: timeout, Err: cause}
		if haveLast {
			we.Last = last
			we.LastState, we.LastMessage, we.LastStatus = p.describe(last)
		}
		return we
	}
	for {
		var wait time.Duration
		if rv != "" && longPoll {
			wait = time.Until(deadlineOf(wctx))
			if wait > api.MaxWaitMs*time.Millisecond {
				wait = api.MaxWaitMs * time.Millisecond
			}
			if wait < time.Millisecond {
				wait = time.Millisecond
			}
		}
		sent := time.Now()
		changedSince := ""
		if wait > 0 {
			changedSince = rv
		}
		obj, newRV, err := get(wctx, changedSince, wait)
		if err != nil {
			if ctx.Err() == nil && (wctx.Err() != nil || retriedUntilDeadline(err)) {
				// Our own deadline passed mid-request, or while the read
				// was being retried (the server restarting or throttling):
				// the wait timed out.
				return last, timeoutErr(context.DeadlineExceeded)
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return last, timeoutErr(context.DeadlineExceeded)
			}
			return zero, err
		}
		last, haveLast = obj, true
		if p.progress != nil {
			if _, _, summary := p.describe(obj); summary != reported {
				reported = summary
				p.progress(summary)
			}
		}
		done, cerr := check(obj)
		if cerr != nil {
			return obj, cerr
		}
		if done {
			return obj, nil
		}
		if wait > 0 && newRV == rv && wait >= minLongPollProbe && time.Since(sent) < wait/4 {
			// The server answered at once without a change: it ignores
			// long-poll parameters. Poll at the interval instead.
			longPoll = false
		}
		rv = newRV
		if !longPoll || rv == "" {
			t := time.NewTimer(p.interval)
			select {
			case <-wctx.Done():
				t.Stop()
				if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return zero, fmt.Errorf("nimbus: waiting for %s %q to become %s: %w", p.kind, p.name, p.until, ctx.Err())
				}
				return last, timeoutErr(context.DeadlineExceeded)
			case <-t.C:
			}
		} else if wctx.Err() != nil {
			if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return zero, fmt.Errorf("nimbus: waiting for %s %q to become %s: %w", p.kind, p.name, p.until, ctx.Err())
			}
			return last, timeoutErr(context.DeadlineExceeded)
		}
	}
}

func deadlineOf(ctx context.Context) time.Time {
	dl, _ := ctx.Deadline()
	return dl
}

// ---------------------------------------------------------------- services

func describeService(s *api.Service) (state, message, summary string) {
	st := s.Status
	// The summary leaves the message out: it is reported once, as message.
	summary = fmt.Sprintf("state %s, readiness %s, health %s, observedGeneration %d of generation %d",
		orNone(st.LifecycleState), orNone(st.Readiness), orNone(st.Health), st.ObservedGeneration, s.Metadata.Generation)
	return st.LifecycleState, st.Message, summary
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// ServiceReady reports whether s is running, ready and describes its
// current generation.
func ServiceReady(s *api.Service) bool {
	return s.Status.LifecycleState == api.ServiceRunning &&
		s.Status.Readiness == api.ReadinessReady &&
		s.Status.ObservedGeneration >= s.Metadata.Generation
}

// ServiceHealthy reports whether s is ready and healthy.
func ServiceHealthy(s *api.Service) bool {
	return ServiceReady(s) && s.Status.Health == api.HealthHealthy
}

func serviceChecker(name, until string) (checker[*api.Service], error) {
	var cond func(*api.Service) bool
	switch until {
	case api.WaitReady:
		cond = ServiceReady
	case api.WaitHealthy:
		cond = ServiceHealthy
	case api.WaitStopped:
		cond = func(s *api.Service) bool { return s.Status.LifecycleState == api.ServiceStopped }
	default:
		return nil, fmt.Errorf("nimbus: cannot wait for service %q to become %q: until must be %q, %q or %q",
			name, until, api.WaitReady, api.WaitHealthy, api.WaitStopped)
	}
	return func(s *api.Service) (bool, error) {
		if cond(s) {
			return true, nil
		}
		if s.Status.LifecycleState == api.ServiceFailed {
			state, msg, summary := describeService(s)
			return false, &WaitError{Kind: "service", Name: name, Until: until, Failed: true,
				LastState: state, LastMessage: msg, LastStatus: summary, Last: s}
		}
		return false, nil
	}, nil
}

// ---------------------------------------------------------------- sandboxes

func describeSandbox(s *api.Sandbox) (state, message, summary string) {
	st := s.Status
	summary = "state " + orNone(st.LifecycleState)
	if st.ExitCode != nil {
		summary += fmt.Sprintf(", exit code %d", *st.ExitCode)
	}
	return st.LifecycleState, st.Message, summary
}

func sandboxChecker(id, until string) (checker[*api.Sandbox], error) {
	var want string
	switch until {
	case api.WaitRunning:
		want = api.SandboxRunning
	case api.WaitStopped:
		want = api.SandboxStopped
	default:
		return nil, fmt.Errorf("nimbus: cannot wait for sandbox %q to become %q: until must be %q or %q",
			id, until, api.WaitRunning, api.WaitStopped)
	}
	return func(s *api.Sandbox) (bool, error) {
		if s.Status.LifecycleState == want {
			return true, nil
		}
		if s.Status.LifecycleState == api.SandboxFailed {
			state, msg, summary := describeSandbox(s)
			return false, &WaitError{Kind: "sandbox", Name: id, Until: until, Failed: true,
				LastState: state, LastMessage: msg, LastStatus: summary, Last: s}
		}
		return false, nil
	}, nil
}

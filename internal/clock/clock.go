// Package clock abstracts time so the Nimbus server's timers (session expiry,
// health intervals, timestamps) can be driven deterministically in tests.
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock tells time and makes timers.
type Clock interface {
	Now() time.Time
	Since(t time.Time) time.Duration
	NewTimer(d time.Duration) Timer
	After(d time.Duration) <-chan time.Time
}

// Timer is a one-shot timer like *time.Timer.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was active.
	Stop() bool
	// Reset re-arms the timer to fire after d; it reports whether it was active.
	Reset(d time.Duration) bool
}

// Real returns the wall clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) Since(t time.Time) time.Duration        { return time.Since(t) }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (realClock) NewTimer(d time.Duration) Timer         { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// Fake is a manually advanced clock. Timers fire when Advance or Set moves
// the time to or past their deadline.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	waiters []chan struct{}
}

// NewFake returns a fake clock reading t0.
func NewFake(t0 time.Time) *Fake { return &Fake{now: t0} }

// Now implements Clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Since implements Clock.
func (f *Fake) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

// After implements Clock.
func (f *Fake) After(d time.Duration) <-chan time.Time { return f.NewTimer(d).C() }

// NewTimer implements Clock. A timer with d <= 0 fires at once.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	t.when = f.now.Add(d)
	if d <= 0 {
		t.c <- f.now
		f.mu.Unlock()
		return t
	}
	t.active = true
	f.timers = append(f.timers, t)
	f.notifyLocked()
	f.mu.Unlock()
	return t
}

// Advance moves the clock forward by d, firing every timer that comes due.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the clock to t (never backwards), firing every timer that comes due.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	if t.After(f.now) {
		f.now = t
	}
	var due []*fakeTimer
	keep := f.timers[:0]
	for _, tm := range f.timers {
		if !tm.when.After(f.now) {
			tm.active = false
			due = append(due, tm)
		} else {
			keep = append(keep, tm)
		}
	}
	f.timers = keep
	sort.Slice(due, func(i, j int) bool { return due[i].when.Before(due[j].when) })
	now := f.now
	for _, tm := range due {
		select {
		case tm.c <- now:
		default:
		}
	}
	f.mu.Unlock()
}

// Timers returns how many timers are waiting to fire.
func (f *Fake) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// BlockUntil blocks until at least n timers are waiting.
func (f *Fake) BlockUntil(n int) {
	for {
		f.mu.Lock()
		if len(f.timers) >= n {
			f.mu.Unlock()
			return
		}
		ch := make(chan struct{})
		f.waiters = append(f.waiters, ch)
		f.mu.Unlock()
		<-ch
	}
}

func (f *Fake) notifyLocked() {
	for _, ch := range f.waiters {
		close(ch)
	}
	f.waiters = nil
}

func (f *Fake) remove(t *fakeTimer) {
	for i, x := range f.timers {
		if x == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			return
		}
	}
}

type fakeTimer struct {
	f      *Fake
	c      chan time.Time
	when   time.Time
	active bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.active
	if was {
		t.active = false
		t.f.remove(t)
	}
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	was := t.active
	if was {
		t.f.remove(t)
	}
	select { // drain a stale fire
	case <-t.c:
	default:
	}
	t.when = t.f.now.Add(d)
	if d <= 0 {
		t.active = false
		t.c <- t.f.now
	} else {
		t.active = true
		t.f.timers = append(t.f.timers, t)
		t.f.notifyLocked()
	}
	t.f.mu.Unlock()
	return was
}

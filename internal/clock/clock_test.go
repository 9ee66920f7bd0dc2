package clock

import (
	"testing"
	"time"
)

func TestFakeTimersFireOnAdvance(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(t0)
	tm := f.NewTimer(10 * time.Second)
	after := f.After(5 * time.Second)
	f.Advance(4 * time.Second)
	select {
	case <-after:
		t.Fatal("fired early")
	default:
	}
	f.Advance(time.Second)
	if got := <-after; !got.Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("fired at %v", got)
	}
	if !tm.Stop() {
		t.Fatal("Stop of active timer returned false")
	}
	f.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	tm.Reset(time.Second)
	f.Set(f.Now().Add(2 * time.Second))
	<-tm.C()
	if f.Since(t0) != time.Hour+7*time.Second {
		t.Fatalf("Since = %v", f.Since(t0))
	}
}

func TestFakeBlockUntil(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan struct{})
	go func() { <-f.After(time.Minute); close(done) }()
	f.BlockUntil(1)
	f.Advance(time.Minute)
	<-done
}

func TestReal(t *testing.T) {
	c := Real()
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
	if c.Since(c.Now().Add(-time.Second)) < time.Second {
		t.Fatal("Since too small")
	}
}

func TestFakeTimerSemantics(t *testing.T) {
	t0 := time.Unix(1000, 0)
	f := NewFake(t0)

	// A timer with d <= 0 fires at once and is not pending.
	now := f.NewTimer(0)
	if got := <-now.C(); !got.Equal(t0) {
		t.Fatalf("zero timer fired at %v", got)
	}
	if f.Timers() != 0 {
		t.Fatalf("Timers = %d after a zero timer", f.Timers())
	}

	// Stop of a fired timer reports false; Reset re-arms it.
	tm := f.NewTimer(time.Second)
	f.Advance(time.Second)
	<-tm.C()
	if tm.Stop() {
		t.Fatal("Stop of a fired timer returned true")
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a fired timer returned true")
	}
	if !tm.Reset(2 * time.Second) {
		t.Fatal("Reset of an active timer returned false")
	}
	f.Advance(time.Second)
	select {
	case <-tm.C():
		t.Fatal("fired at the deadline it had before Reset")
	default:
	}
	f.Advance(time.Second)
	if got := <-tm.C(); !got.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("fired at %v", got)
	}

	// Reset drains a fire nobody received.
	tm.Reset(time.Second)
	f.Advance(time.Second)
	tm.Reset(time.Minute)
	select {
	case <-tm.C():
		t.Fatal("a stale fire survived Reset")
	default:
	}

	// Set never moves backwards, and fires everything due in one step.
	a, b := f.After(time.Minute), f.After(time.Hour)
	f.Set(t0)
	if !f.Now().Equal(t0.Add(4 * time.Second)) {
		t.Fatalf("Set moved the clock backwards to %v", f.Now())
	}
	f.Set(t0.Add(2 * time.Hour))
	<-a
	<-b
	<-tm.C()
	if f.Timers() != 0 {
		t.Fatalf("Timers = %d after everything fired", f.Timers())
	}
}

func TestFakeBlockUntilSeveral(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan int, 3)
	for i := range 3 {
		go func() { <-f.After(time.Duration(i+1) * time.Second); done <- i }()
	}
	f.BlockUntil(3)
	f.Advance(time.Second)
	if got := <-done; got != 0 {
		t.Fatalf("timer %d fired first", got)
	}
	f.BlockUntil(2)
	f.Advance(2 * time.Second)
	<-done
	<-done
}

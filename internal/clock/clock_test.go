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

package runtimes

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// The test binary doubles as the sandbox process of the process-runtime
// tests: with NIMBUS_TEST_HELPER set it acts as that process instead of
// running tests.
func TestMain(m *testing.M) {
	switch os.Getenv("NIMBUS_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "listen":
		helperListen()
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		helperListen()
	case "never-listen":
		time.Sleep(time.Hour)
	case "exit7":
		os.Exit(7)
	case "spawner":
		helperSpawner()
	}
	os.Exit(99)
}

// helperListen accepts connections on $PORT until killed, after checking
// that the sandbox environment arrived and the server's did not.
func helperListen() {
	if os.Getenv("SECRET_VALUE") != "s3cr3t" {
		os.Exit(4)
	}
	if os.Getenv("NIMBUS_TEST_SERVER_ONLY") != "" {
		os.Exit(6) // the server's own environment leaked into the sandbox
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		os.Exit(3)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(5)
		}
		_ = c.Close()
	}
}

// helperSpawner plays a server: it launches a "listen" child on the process
// runtime, prints the child's endpoint and waits to be killed.
func helperSpawner() {
	exe, err := os.Executable()
	if err != nil {
		os.Exit(8)
	}
	events := make(chan Event, 4)
	rt := NewProcess(ProcessOptions{StartTimeout: 20 * time.Second})
	// A child program, not a test: no t.Context(); the process lives until killed.
	_, err = rt.Start(context.Background(), spec("local", []string{exe},
		map[string]string{"NIMBUS_TEST_HELPER": "listen", "SECRET_VALUE": "s3cr3t"}), func(e Event) { events <- e })
	if err != nil {
		os.Exit(9)
	}
	e := <-events
	if e.State != api.SandboxRunning {
		os.Exit(10)
	}
	fmt.Println(e.Endpoints[0].URL)
	time.Sleep(time.Hour)
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

// next returns the next reported event, failing after 20s of real time.
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

// none fails if an event is reported within d.
func (r *recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case e := <-r.ch:
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(d):
	}
}

func spec(image string, argv []string, env map[string]string) Spec {
	return Spec{ID: "sbx-test1", TenantID: "acc", Profile: api.ProfileWorker, Sandbox: api.SandboxSpec{
		Owner: api.Owner{Kind: api.OwnerKindStandalone}, Backend: api.RuntimeContainer,
		Root:    api.Root{Kind: api.RootKindOCIImage, Source: api.RootSource{Kind: api.SourceKindReference, Reference: image}},
		Process: api.Process{Argv: api.RedactableList{Values: argv}, Environment: api.RedactableMap{Values: env}},
	}}
}

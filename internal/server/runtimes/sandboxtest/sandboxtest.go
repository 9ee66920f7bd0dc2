// Package sandboxtest turns a test binary into a sandbox process for the
// process runtime, so tests anywhere (runtime, server, client, provider) can
// run real child processes without building anything:
//
//	func TestMain(m *testing.M) {
//		sandboxtest.Main() // returns at once unless this is a helper child
//		os.Exit(m.Run())
//	}
//
//	argv, env := sandboxtest.Command(t, sandboxtest.Listen)
//	// use argv and env as a sandbox's process.argv and process.environment
package sandboxtest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ModeVar is the environment variable that selects the helper's behaviour.
const ModeVar = "NIMBUS_SANDBOXTEST_MODE"

// ExitCodeVar sets the exit code of the Exit and ListenThenExit modes.
const ExitCodeVar = "NIMBUS_SANDBOXTEST_EXIT_CODE"

// ExitAfterVar sets how long ListenThenExit keeps running after its first
// connection has closed, as a Go duration (default 200ms).
const ExitAfterVar = "NIMBUS_SANDBOXTEST_EXIT_AFTER"

// Helper behaviours.
const (
	// Listen serves HTTP on 127.0.0.1:$PORT until killed: GET /env?name=X
	// answers the value of environment variable X (404 when unset), any
	// other path answers 200 "ok".
	Listen = "listen"
	// IgnoreTerm is Listen, ignoring SIGTERM (Stop must SIGKILL it).
	IgnoreTerm = "ignore-term"
	// NeverListen runs for an hour without listening.
	NeverListen = "never-listen"
	// Exit exits at once with the code in ExitCodeVar (default 1).
	Exit = "exit"
	// ListenThenExit is Listen until its first connection (the process
	// runtime's readiness probe) has closed, then exits with the code in
	// ExitCodeVar after ExitAfterVar: a sandbox that starts, is seen
	// running, then dies. It counts from that connection, not from its own
	// start, because the runtime probes with a backoff of up to 200ms: a
	// helper that starts slowly (under -race, on a loaded machine) would
	// otherwise be gone before any probe saw it listen.
	ListenThenExit = "listen-then-exit"
)

// Main acts as the helper process and never returns when ModeVar is set;
// otherwise it returns at once. Call it first thing in TestMain.
func Main() {
	mode := os.Getenv(ModeVar)
	if mode == "" {
		return
	}
	code := 1
	if s := os.Getenv(ExitCodeVar); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			code = n
		}
	}
	switch mode {
	case Listen:
		serve()
	case IgnoreTerm:
		signal.Ignore(syscall.SIGTERM)
		serve()
	case NeverListen:
		time.Sleep(time.Hour)
		os.Exit(0)
	case Exit:
		os.Exit(code)
	case ListenThenExit:
		after := 200 * time.Millisecond
		if d, err := time.ParseDuration(os.Getenv(ExitAfterVar)); err == nil {
			after = d
		}
		l := listen()
		probed := make(chan struct{})
		go serveOn(&firstCloseListener{Listener: l, closed: probed})
		<-probed
		time.Sleep(after)
		os.Exit(code)
	}
	fmt.Fprintf(os.Stderr, "sandboxtest: unknown %s %q\n", ModeVar, mode)
	os.Exit(99)
}

func serve() { serveOn(listen()) }

func listen() net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandboxtest: listen on $PORT: %v\n", err)
		os.Exit(3)
	}
	return l
}

// firstCloseListener closes closed once the first connection it accepted
// has been closed.
type firstCloseListener struct {
	net.Listener
	closed chan struct{}
	first  sync.Once
}

func (l *firstCloseListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	first := false
	l.first.Do(func() { first = true })
	if first {
		return &notifyCloseConn{Conn: c, closed: l.closed}, nil
	}
	return c, nil
}

type notifyCloseConn struct {
	net.Conn
	closed chan struct{}
	once   sync.Once
}

func (c *notifyCloseConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { close(c.closed) })
	return err
}

func serveOn(l net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, r *http.Request) {
		v, ok := os.LookupEnv(r.URL.Query().Get("name"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = io.WriteString(w, v) // #nosec G705 -- plain text to a test on loopback
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	_ = srv.Serve(l)
	os.Exit(5)
}

// Command returns the argv and environment of a sandbox that runs this test
// binary as the helper in the given mode. Add more environment entries to
// the map as needed.
func Command(t testing.TB, mode string) (argv []string, env map[string]string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("sandboxtest: locating the test binary: %v", err)
	}
	return []string{exe}, map[string]string{ModeVar: mode}
}

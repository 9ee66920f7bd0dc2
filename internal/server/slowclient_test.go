package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/server/command"
)

// slowBody opens a connection to addr and sends a create request whose
// 200-byte body arrives one byte every 100ms, until stop is closed.
func slowBody(t *testing.T, addr, token string, stop <-chan struct{}, wg *sync.WaitGroup) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /v1/tenants/acc/services HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{", addr, token)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for range 199 {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	return c
}

// readStatus reads the status line the server answered on c.
func readStatus(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "no answer: " + err.Error()
	}
	resp.Body.Close()
	return resp.Status
}

// startMain runs command.Main with args and returns its address and a stop
// func that cancels it and waits up to timeout for its exit code.
func startMain(t *testing.T, args ...string) (addr string, stop func(timeout time.Duration) (code int, ok bool)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, logs := &syncBuffer{}, &syncBuffer{}
	ch := make(chan int, 1)
	go func() { ch <- command.Main(ctx, args, out, logs) }()
	var once sync.Once
	var rc int
	exited := make(chan struct{})
	stop = func(timeout time.Duration) (int, bool) {
		cancel()
		once.Do(func() {
			go func() { rc = <-ch; close(exited) }()
		})
		select {
		case <-exited:
			return rc, true
		case <-time.After(timeout):
			return 0, false
		}
	}
	t.Cleanup(func() { stop(90 * time.Second) })
	m := waitLog(t, logs, regexp.MustCompile(`endpoint=http://(127\.0\.0\.1:\d+)`))
	return m[1], stop
}

// TestSlowBodiesDoNotStarveOthers: connections that send their body slowly
// do not hold --max-in-flight slots (another tenant is served), and a
// graceful shutdown cuts them off instead of waiting for them.
func TestSlowBodiesDoNotStarveOthers(t *testing.T) {
	addr, stopMain := startMain(t, "--in-memory", "--listen", "127.0.0.1:0", "--log-level", "info",
		"--token", "slow-secret-0123456789=acc", "--token", "other-secret-0123456789=other",
		"--max-in-flight", "4", "--body-timeout", "60s", "--shutdown-timeout", "60s")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	var conns []net.Conn
	for range 12 {
		conns = append(conns, slowBody(t, addr, "slow-secret-0123456789", stop, &wg))
	}
	for i := range 20 {
		time.Sleep(50 * time.Millisecond)
		st, body := get(t, "http://"+addr+"/v1/tenants/other/services", "Authorization", "Bearer other-secret-0123456789")
		if st != 200 {
			t.Fatalf("request %d of another tenant while 12 bodies trickle in: %d %s", i, st, body)
		}
	}

	start := time.Now()
	rc, ok := stopMain(30 * time.Second)
	if !ok {
		t.Fatal("graceful shutdown is held by slow request bodies")
	}
	if rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	t.Logf("shutdown took %s", time.Since(start))
	if st := readStatus(t, conns[0]); !strings.HasPrefix(st, "503") {
		t.Fatalf("a body cut off by shutdown: %s, want 503", st)
	}
}

// TestSlowBodyIsCutOff: a body that does not arrive within --body-timeout
// is answered with request.timeout (408) and the connection is closed.
func TestSlowBodyIsCutOff(t *testing.T) {
	addr, _ := startMain(t, "--in-memory", "--listen", "127.0.0.1:0", "--log-level", "info",
		"--token", "slow-secret-0123456789=acc", "--body-timeout", "2s")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	c := slowBody(t, addr, "slow-secret-0123456789", stop, &wg)
	if st := readStatus(t, c); !strings.HasPrefix(st, "408") {
		t.Fatalf("slow body: %s, want 408", st)
	}
	// A long-poll (a GET without a body) is not subject to the body timeout,
	// while a request whose body came in time is served.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	body := `{"name":"web","backend":{"kind":"builtIn","provider":"loadBalancer"}}`
	fmt.Fprintf(c2, "POST /v1/tenants/acc/services HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer slow-secret-0123456789\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
	if st := readStatus(t, c2); !strings.HasPrefix(st, "201") {
		t.Fatalf("create: %s", st)
	}
	st, b := get(t, "http://"+addr+"/v1/tenants/acc/services/web", "Authorization", "Bearer slow-secret-0123456789")
	m := regexp.MustCompile(`"resourceVersion":"(\d+)"`).FindStringSubmatch(string(b))
	if st != 200 || m == nil {
		t.Fatalf("get: %d %s", st, b)
	}
	start := time.Now()
	st, b = get(t, "http://"+addr+"/v1/tenants/acc/services/web?changedSince="+m[1]+"&waitMs=3000", "Authorization", "Bearer slow-secret-0123456789")
	if st != 200 || time.Since(start) < 2900*time.Millisecond {
		t.Fatalf("long-poll answered %d after %s (want 200 after its waitMs of 3s, longer than the body timeout): %s", st, time.Since(start), b)
	}
}

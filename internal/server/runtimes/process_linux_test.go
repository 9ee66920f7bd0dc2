//go:build linux

package runtimes

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A sandbox process must not outlive a server that dies without stopping
// it (kill -9): the server relaunches what should run when it restarts.
func TestProcessDiesWithTheServer(t *testing.T) {
	server := exec.Command(helperExe(t))
	server.Env = append(os.Environ(), "NIMBUS_TEST_HELPER=spawner")
	out, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = server.Process.Kill(); _ = server.Wait() }()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var addr string
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatal("the spawner ended without launching its child")
		}
		addr = strings.TrimPrefix(line, "http://")
	case <-time.After(20 * time.Second):
		t.Fatal("the spawner did not launch its child within 20s")
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("the child does not listen on %s: %v", addr, err)
	}
	_ = c.Close()
	if err := server.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = server.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return // the child is gone
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the sandbox process outlived the killed server")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

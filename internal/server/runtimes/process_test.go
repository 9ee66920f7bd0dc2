//go:build unix

package runtimes

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

func helperExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func helperSpec(t *testing.T, mode string, extraArgs ...string) Spec {
	return spec("local", append([]string{helperExe(t)}, extraArgs...),
		map[string]string{"NIMBUS_TEST_HELPER": mode, "SECRET_VALUE": "s3cr3t", "PORT": "1"})
}

func endpointAddr(t *testing.T, e Event) string {
	t.Helper()
	if len(e.Endpoints) != 1 || !strings.HasPrefix(e.Endpoints[0].URL, "http://127.0.0.1:") {
		t.Fatalf("want one http://127.0.0.1:PORT endpoint, got %+v", e.Endpoints)
	}
	return strings.TrimPrefix(e.Endpoints[0].URL, "http://")
}

// startRunning starts the helper child in mode on rt and returns it once it
// reports running, with its recorder and the address of its endpoint.
func startRunning(t *testing.T, rt *Process, mode string) (Instance, *recorder, string) {
	t.Helper()
	rec := newRecorder()
	inst, err := rt.Start(t.Context(), helperSpec(t, mode), rec.report)
	if err != nil {
		t.Fatal(err)
	}
	e := rec.next(t)
	if e.State != api.SandboxRunning {
		t.Fatalf("want running, got %+v", e)
	}
	return inst, rec, endpointAddr(t, e)
}

func TestProcessRunsRealChildOnPort(t *testing.T) {
	t.Setenv("NIMBUS_TEST_SERVER_ONLY", "1") // must not reach the child
	rt := NewProcess(ProcessOptions{StartTimeout: 20 * time.Second, StopGrace: 5 * time.Second})
	inst, rec, addr := startRunning(t, rt, "listen")
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("the child does not listen on its endpoint %s: %v", addr, err)
	}
	_ = c.Close()
	start := time.Now()
	if err := inst.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Stop reported before it returned.
	select {
	case e := <-rec.ch:
		if e.State != api.SandboxStopped {
			t.Fatalf("want stopped, got %+v", e)
		}
	default:
		t.Fatal("Stop returned before reporting stopped")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("a child that honours SIGTERM took %s to stop", d)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("the child still listens after Stop")
	}
	rec.none(t, 20*time.Millisecond)
}

func TestProcessStopKillsChildIgnoringSIGTERM(t *testing.T) {
	rt := NewProcess(ProcessOptions{StartTimeout: 20 * time.Second, StopGrace: 300 * time.Millisecond})
	inst, rec, addr := startRunning(t, rt, "ignore-term")
	start := time.Now()
	if err := inst.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("Stop returned after %s, before the grace period: SIGTERM should have been ignored", d)
	}
	if e := rec.next(t); e.State != api.SandboxStopped {
		t.Fatalf("want stopped, got %+v", e)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("the child still listens after Stop")
	}
}

func TestProcessExitNonZeroFails(t *testing.T) {
	rt := NewProcess(ProcessOptions{StartTimeout: 20 * time.Second})
	rec := newRecorder()
	inst, err := rt.Start(t.Context(), helperSpec(t, "exit7", "--secret-arg"), rec.report)
	if err != nil {
		t.Fatal(err)
	}
	e := rec.next(t)
	if e.State != api.SandboxFailed || e.ExitCode == nil || *e.ExitCode != 7 || !strings.Contains(e.Message, "code 7") {
		t.Fatalf("want failed with exit code 7, got %+v", e)
	}
	for _, leak := range []string{"secret-arg", "exit7", "s3cr3t", helperExe(t)} {
		if strings.Contains(e.Message, leak) {
			t.Fatalf("message leaks launch inputs (%q): %q", leak, e.Message)
		}
	}
	if err := inst.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec.none(t, 20*time.Millisecond)
}

func TestProcessStartTimeoutFails(t *testing.T) {
	rt := NewProcess(ProcessOptions{StartTimeout: 300 * time.Millisecond, StopGrace: time.Second})
	rec := newRecorder()
	if _, err := rt.Start(t.Context(), helperSpec(t, "never-listen"), rec.report); err != nil {
		t.Fatal(err)
	}
	e := rec.next(t)
	if e.State != api.SandboxFailed || !strings.Contains(e.Message, "did not accept TCP connections") {
		t.Fatalf("want failed for not listening, got %+v", e)
	}
	// The process is killed, and its exit is not reported a second time.
	rec.none(t, 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestProcessCloseKillsWithoutReporting(t *testing.T) {
	rt := NewProcess(ProcessOptions{StartTimeout: 20 * time.Second, StopGrace: 300 * time.Millisecond})
	rec := newRecorder()
	if _, err := rt.Start(t.Context(), helperSpec(t, "ignore-term"), rec.report); err != nil {
		t.Fatal(err)
	}
	e := rec.next(t)
	if e.State != api.SandboxRunning {
		t.Fatalf("want running, got %+v", e)
	}
	addr := endpointAddr(t, e)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("the child still listens after Close")
	}
	rec.none(t, 20*time.Millisecond)
}

func TestProcessStartErrorsDoNotEchoArgv(t *testing.T) {
	rt := NewProcess(ProcessOptions{})
	for name, argv := range map[string][]string{
		"missing":     {"/nonexistent/secret-tool", "--token=secret-arg"},
		"not on PATH": {"secret-tool-that-does-not-exist"},
		"empty":       nil,
	} {
		_, err := rt.Start(t.Context(), spec("local", argv, nil), func(Event) {})
		if err == nil {
			t.Fatalf("%s: want an error", name)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Fatalf("%s: the error echoes argv: %v", name, err)
		}
	}
}

func TestProcessRelativeArgv0(t *testing.T) {
	exe := helperExe(t)
	t.Chdir(filepath.Dir(exe))
	rt := NewProcess(ProcessOptions{StartTimeout: 20 * time.Second, StopGrace: time.Second})
	rec := newRecorder()
	sp := helperSpec(t, "listen")
	sp.Sandbox.Process.Argv.Values = []string{"./" + filepath.Base(exe)}
	inst, err := rt.Start(t.Context(), sp, rec.report)
	if err != nil {
		t.Fatal(err)
	}
	if e := rec.next(t); e.State != api.SandboxRunning {
		t.Fatalf("want running, got %+v", e)
	}
	if err := inst.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}

package sandboxtest_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes/sandboxtest"
)

func TestMain(m *testing.M) {
	sandboxtest.Main()
	os.Exit(m.Run())
}

func start(t *testing.T, mode string, extraEnv map[string]string) (runtimes.Instance, chan runtimes.Event) {
	t.Helper()
	argv, env := sandboxtest.Command(t, mode)
	for k, v := range extraEnv {
		env[k] = v
	}
	events := make(chan runtimes.Event, 8)
	rt := runtimes.NewProcess(runtimes.ProcessOptions{StartTimeout: 20 * time.Second, StopGrace: 300 * time.Millisecond})
	inst, err := rt.Start(t.Context(), runtimes.Spec{ID: "sbx-helper", Sandbox: api.SandboxSpec{
		Process: api.Process{Argv: api.RedactableList{Values: argv}, Environment: api.RedactableMap{Values: env}},
	}}, func(e runtimes.Event) { events <- e })
	if err != nil {
		t.Fatal(err)
	}
	// t.Context() is cancelled before cleanups run: the stop gets its own context.
	t.Cleanup(func() { _ = inst.Stop(context.Background()) })
	return inst, events
}

func next(t *testing.T, events chan runtimes.Event) runtimes.Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20s")
		return runtimes.Event{}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // a test against a loopback helper
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestListenServesHTTPAndEnvironment(t *testing.T) {
	_, events := start(t, sandboxtest.Listen, map[string]string{"GREETING": "hello"})
	e := next(t, events)
	if e.State != api.SandboxRunning {
		t.Fatalf("want running, got %+v", e)
	}
	base := e.Endpoints[0].URL
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok" {
		t.Fatalf("GET /healthz = %d %q", code, body)
	}
	if code, body := get(t, base+"/env?name=GREETING"); code != 200 || body != "hello" {
		t.Fatalf("GET /env?name=GREETING = %d %q", code, body)
	}
	if code, _ := get(t, base+"/env?name=NOT_SET_ANYWHERE"); code != 404 {
		t.Fatalf("GET /env of an unset variable = %d", code)
	}
}

func TestListenThenExitFailsWithItsCode(t *testing.T) {
	_, events := start(t, sandboxtest.ListenThenExit, map[string]string{sandboxtest.ExitCodeVar: "42"})
	if e := next(t, events); e.State != api.SandboxRunning {
		t.Fatalf("want running, got %+v", e)
	}
	e := next(t, events)
	if e.State != api.SandboxFailed || e.ExitCode == nil || *e.ExitCode != 42 {
		t.Fatalf("want failed with exit code 42, got %+v", e)
	}
}

func TestExit(t *testing.T) {
	_, events := start(t, sandboxtest.Exit, map[string]string{sandboxtest.ExitCodeVar: "3"})
	if e := next(t, events); e.State != api.SandboxFailed || e.ExitCode == nil || *e.ExitCode != 3 {
		t.Fatalf("want failed with exit code 3, got %+v", e)
	}
}

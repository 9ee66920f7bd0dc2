package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/command"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestMain doubles as the child program of the process-runtime tests: with
// NIMBUS_TEST_HELPER set, the test binary listens on $PORT or exits non-zero.
func TestMain(m *testing.M) {
	switch os.Getenv("NIMBUS_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "server":
		// A real Nimbus server in a child process (for the kill -9 test).
		// The child program, not a test: no t.Context(); it runs until signalled.
		os.Exit(command.Main(context.Background(), strings.Fields(os.Getenv("NIMBUS_TEST_ARGS")), os.Stdout, os.Stderr))
	case "listen":
		ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello from the child") }))
		os.Exit(0)
	default:
		os.Exit(3)
	}
}

func processService(t *testing.T, name, mode string) api.CreateServiceRequest {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return testfixtures.SandboxService(name, "local/helper:1", []string{exe, "-test.run=^$"}, map[string]string{"NIMBUS_TEST_HELPER": mode}, nil)
}

func TestProcessRuntimeRunsAndFails(t *testing.T) {
	srv := testserver.Start(t, func(o *testserver.Options) { o.Runtime = "process" })
	mustCreate(t, srv, processService(t, "child", "listen"))
	do(t, srv, "POST", tp+"/services/child/start", nil)
	s := waitService(t, srv, "child", func(s *api.Service) bool {
		return s.Status.LifecycleState == api.ServiceRunning || s.Status.LifecycleState == api.ServiceFailed
	})
	if s.Status.LifecycleState != api.ServiceRunning || len(s.Status.Endpoints) == 0 {
		t.Fatalf("process service: %+v", s.Status)
	}
	resp, err := http.Get(s.Status.Endpoints[0].URL)
	if err != nil {
		t.Fatalf("child endpoint: %v", err)
	}
	resp.Body.Close()
	do(t, srv, "POST", tp+"/services/child/stop", nil)
	waitService(t, srv, "child", stateIs(api.ServiceStopped))

	mustCreate(t, srv, processService(t, "crash", "exit"))
	do(t, srv, "POST", tp+"/services/crash/start", nil)
	f := waitService(t, srv, "crash", stateIs(api.ServiceFailed))
	sb := waitSandbox(t, srv, f.Status.SandboxID, sbxState(api.SandboxFailed))
	if sb.Status.ExitCode == nil || *sb.Status.ExitCode != 3 {
		t.Fatalf("exit code: %+v", sb.Status)
	}
}

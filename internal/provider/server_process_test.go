package provider

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// TestAccServerProcess builds the real binary, checks that --version prints
// the version injected with -ldflags, runs its `server --dev` sub-command as
// a separate process on a loopback port, and applies a configuration
// against it using the export lines the server prints.
func TestAccServerProcess(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "terraform-provider-nimbus")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=9.8.7-test", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("--version: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "9.8.7-test" {
		t.Fatalf("--version printed %q, want the injected 9.8.7-test", got)
	}

	cmd := exec.Command(bin, "server", "--dev", "--listen", "127.0.0.1:0",
		"--sim-start-delay", "20ms", "--sim-stop-delay", "20ms", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("server did not exit cleanly after SIGTERM: %v", err)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("server did not stop within 20s of SIGTERM")
		}
	})

	exports := map[string]string{}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if kv, ok := strings.CutPrefix(line, "export "); ok {
				if k, v, ok := strings.Cut(kv, "="); ok {
					exports[k] = strings.Trim(v, `"'`)
				}
			}
			if exports["NIMBUS_ENDPOINT"] != "" && exports["NIMBUS_TOKEN"] != "" && exports["NIMBUS_TENANT_ID"] != "" {
				close(found)
				for sc.Scan() { // keep draining
				}
				return
			}
		}
	}()
	select {
	case <-found:
	case err := <-exited:
		t.Fatalf("server exited before printing its export lines: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server printed no export lines within 60s")
	}
	if !strings.HasPrefix(exports["NIMBUS_ENDPOINT"], "http://127.0.0.1:") {
		t.Fatalf("server is not on loopback: %q", exports["NIMBUS_ENDPOINT"])
	}

	env := &testAccEnv{Endpoint: exports["NIMBUS_ENDPOINT"], Token: exports["NIMBUS_TOKEN"], Tenant: exports["NIMBUS_TENANT_ID"]}
	name := testAccName("proc")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{{
			Config: env.Config(sandboxServiceConfig(name, "example/app:1", `{ via = "process" }`, "")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs(svcAddr, "id", knownvalue.StringExact(fmt.Sprintf("%s/%s", env.Tenant, name))),
				stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
				stateIs(svcAddr, "readiness", knownvalue.StringExact(api.ReadinessReady)),
			},
		}},
	})
}

package provider

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// The one harness for tests that run the real binary's `server` sub-command
// as a child process: the in-process test server (internal/testserver) can
// only stop gracefully, a child process can also be killed (SIGKILL) and
// started again on the same address and data directory.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// providerBinary builds the provider binary once per test run (with the
// version 9.8.7-test injected) and returns its path.
func providerBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nimbus-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "terraform-provider-nimbus")
		build := exec.Command("go", "build", "-ldflags", "-X main.version=9.8.7-test", "-o", binPath, ".")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// serverProcess is `terraform-provider-nimbus server …` running as a child
// process.
type serverProcess struct {
	t    *testing.T
	bin  string
	args []string
	env  []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error
	stdout io.ReadCloser
}

// startServerProcess starts the binary's server with args (and HOME set to
// a fresh directory) and stops it with SIGTERM when the test ends.
func startServerProcess(t *testing.T, args ...string) *serverProcess {
	t.Helper()
	p := &serverProcess{t: t, bin: providerBinary(t), args: args, env: append(os.Environ(), "HOME="+t.TempDir())}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	return p
}

func (p *serverProcess) start() error {
	cmd := exec.Command(p.bin, append([]string{"server"}, p.args...)...)
	cmd.Env = p.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	p.mu.Lock()
	p.cmd, p.exited, p.stdout = cmd, exited, stdout
	p.mu.Unlock()
	return nil
}

// stop ends the server with SIGTERM and checks it exits cleanly.
func (p *serverProcess) stop() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			p.t.Errorf("server did not exit cleanly after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		p.t.Error("server did not stop within 20s of SIGTERM")
	}
}

// kill ends the server with SIGKILL: no drain, no graceful shutdown.
func (p *serverProcess) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	_ = cmd.Process.Kill()
	<-exited
}

// restart starts the server again with the same arguments (same address
// and data directory).
func (p *serverProcess) restart() error { return p.start() }

// exports reads the `export NAME=value` lines a --dev server prints.
func (p *serverProcess) exports() map[string]string {
	p.t.Helper()
	p.mu.Lock()
	stdout, exited := p.stdout, p.exited
	p.mu.Unlock()
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
		p.t.Fatalf("server exited before printing its export lines: %v", err)
	case <-time.After(60 * time.Second):
		p.t.Fatal("server printed no export lines within 60s")
	}
	return exports
}

// waitUp waits until the server on endpoint answers an authenticated
// request.
func waitUp(t *testing.T, endpoint, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/v1/tenants", http.NoBody)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server on %s did not answer within 60s", endpoint)
}

// freeLoopbackAddr returns a loopback address with a port that was free.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestAccServerProcess builds the real binary, checks that --version prints
// the version injected with -ldflags, runs its `server --dev` sub-command as
// a separate process on a loopback port, and applies a configuration
// against it using the export lines the server prints.
func TestAccServerProcess(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	t.Parallel()
	bin := providerBinary(t)
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("--version: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "9.8.7-test" {
		t.Fatalf("--version printed %q, want the injected 9.8.7-test", got)
	}

	srv := startServerProcess(t, "--dev", "--listen", "127.0.0.1:0",
		"--sim-start-delay", "20ms", "--sim-stop-delay", "20ms", "--log-level", "warn")
	exports := srv.exports()
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

// TestAccService_serverKilledMidApply kills the server (SIGKILL) while an
// apply of 20 sandbox-backed services is under way — creates, starts and
// waits in flight — and starts it again on the same address and data
// directory. The apply rides it out: it succeeds, nothing is tainted (the
// next plan is empty), and the server holds each service once with one
// sandbox each.
func TestAccService_serverKilledMidApply(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	t.Parallel()
	const n = 20
	addr := freeLoopbackAddr(t)
	token := "crash-test-token-0123456789abcdef"
	srv := startServerProcess(t, "--listen", addr, "--data-dir", t.TempDir(), "--token", token+"=acc",
		"--sim-start-delay", "2s", "--sim-stop-delay", "20ms", "--log-level", "warn")
	env := &testAccEnv{Endpoint: "http://" + addr, Token: token, Tenant: "acc"}
	waitUp(t, env.Endpoint, token)

	prefix := testAccName("crash")
	var cfg strings.Builder
	cfg.WriteString(env.ProviderConfig())
	fmt.Fprintf(&cfg, `
resource "nimbus_service" "s" {
  count = %d
  name  = "%s-${count.index}"
  sandbox = {
    image = "example/app:1"
    argv  = ["/bin/app"]
  }
}
`, n, prefix)

	// Kill the server once the apply has created a few services (so that
	// creates, starts and waits are in flight), restart it half a second
	// later.
	killed := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	watch := func() {
		defer close(killed)
		c := env.Client(t)
		for ctx.Err() == nil {
			count := 0
			for svc, err := range c.Services.All(ctx, client.ListServicesOptions{}) {
				if err != nil {
					break
				}
				if strings.HasPrefix(svc.Metadata.Name, prefix) {
					count++
				}
			}
			if count >= 3 {
				srv.kill()
				time.Sleep(500 * time.Millisecond)
				if err := srv.restart(); err != nil {
					t.Errorf("restart the killed server: %v", err)
				}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { go watch() },
				Config:    cfg.String(),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("nimbus_service.s[0]", "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
					stateIs(fmt.Sprintf("nimbus_service.s[%d]", n-1), "readiness", knownvalue.StringExact(api.ReadinessReady)),
				},
				Check: func(*terraform.State) error {
					select {
					case <-killed:
					default:
						return fmt.Errorf("the apply ended before the server was killed; the test proved nothing")
					}
					return checkOnePerService(t, env, prefix, n)
				},
			},
			// The step above ends with an empty plan (the framework's
			// post-apply check); a refresh-only plan stays empty too.
			{Config: cfg.String(), PlanOnly: true},
		},
	})
}

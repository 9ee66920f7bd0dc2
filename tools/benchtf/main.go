// Command benchtf (`make bench-tf`) measures what Terraform itself costs with
// this provider (issue 10): in one run it applies, refresh-plans,
// plans with -refresh=false and destroys N nimbus_service resources with a
// built-in backend and N terraform_data resources, alternately over R rounds,
// and prints the median wall time of each step and the ratio
// nimbus_service / terraform_data.
//
// Everything is local and offline: the provider just built, served from a
// filesystem mirror written into the work directory, and a Nimbus server
// (`terraform-provider-nimbus server --in-memory`) on 127.0.0.1. The binary
// in the mirror is a copy of benchtf itself, which runs the real provider as
// its child and records the child's CPU time and peak RSS (getrusage) when
// it exits, so the table also shows the provider's CPU per step and, for
// both resource types, Terraform core's (the terraform process without its
// plugins) and the server's.
//
//	make bench-tf N=200 R=3 TF=bin/terraform
//	go run ./tools/benchtf -provider ./terraform-provider-nimbus -tf bin/terraform -n 200 -rounds 3
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Environment of the wrapper mode: the mirror's binary is benchtf itself,
// started by Terraform with these variables inherited from benchtf.
const (
	envWrapProvider = "BENCHTF_WRAP_PROVIDER" // the real provider binary
	envWrapStats    = "BENCHTF_WRAP_STATS"    // directory for one JSON file per provider process
)

const (
	providerVersion = "0.0.1"
	tenant          = "bench"
)

func main() {
	if provider := os.Getenv(envWrapProvider); provider != "" {
		os.Exit(wrap(provider, os.Getenv(envWrapStats)))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtf:", err)
		os.Exit(1)
	}
}

// ------------------------------------------------------------ wrapper mode

// procStats is what the wrapper records about one provider process.
type procStats struct {
	CPU    time.Duration `json:"cpu_ns"` // user + system CPU of the provider and of the wrapper
	MaxRSS int64         `json:"max_rss_kb"`
}

// wrap runs the real provider with the wrapper's arguments, standard
// streams and environment, forwards SIGINT/SIGTERM, writes its stats into
// statsDir and exits as it did.
func wrap(provider, statsDir string) int {
	cmd := exec.Command(provider, os.Args[1:]...) //nolint:gosec // G702: running the provider binary it wraps is its job
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, envWrapProvider+"=") || strings.HasPrefix(kv, envWrapStats+"=")
	})
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtf wrapper:", err)
		return 1
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintln(os.Stderr, "benchtf wrapper:", err)
		return 1
	}
	var self syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		fmt.Fprintln(os.Stderr, "benchtf wrapper:", err)
		return 1
	}
	st := procStats{CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() + rusageCPU(&self)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		st.MaxRSS = ru.Maxrss
	}
	if b, err := json.Marshal(st); err != nil {
		fmt.Fprintln(os.Stderr, "benchtf wrapper:", err)
	} else if err := os.WriteFile(filepath.Join(statsDir, strconv.Itoa(os.Getpid())+".json"), b, 0o600); err != nil { //nolint:gosec // G703: statsDir is the benchmark's own temporary directory
		fmt.Fprintln(os.Stderr, "benchtf wrapper:", err)
	}
	return cmd.ProcessState.ExitCode()
}

func rusageCPU(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ---------------------------------------------------------------- the run

type config struct {
	terraform, provider, work string
	n, rounds                 int
	keep                      bool
}

// kinds are the two configurations compared, in the order of round 1.
var kinds = []string{"nimbus_service", "terraform_data"}

// steps are the timed commands of one round, in order.
var steps = []struct {
	name string
	args []string
}{
	{"apply", []string{"apply", "-input=false", "-auto-approve", "-no-color"}},
	// -detailed-exitcode: 0 means no changes, which the refresh plan of
	// what was just applied must show.
	{"plan (refresh)", []string{"plan", "-input=false", "-no-color", "-detailed-exitcode"}},
	{"plan -refresh=false", []string{"plan", "-input=false", "-no-color", "-detailed-exitcode", "-refresh=false"}},
	{"destroy", []string{"destroy", "-input=false", "-auto-approve", "-no-color"}},
}

// sample is one timed command.
type sample struct {
	wall, coreCPU, providerCPU, serverCPU time.Duration
	providerRSS                           int64 // KiB, the largest provider process
}

func run() error {
	var c config
	flag.StringVar(&c.terraform, "tf", "bin/terraform", "Terraform (or OpenTofu) CLI to run")
	flag.StringVar(&c.provider, "provider", "terraform-provider-nimbus", "the provider binary (also runs the server)")
	flag.IntVar(&c.n, "n", 200, "resources of each kind")
	flag.IntVar(&c.rounds, "rounds", 3, "rounds (each applies, plans and destroys both kinds)")
	flag.StringVar(&c.work, "work", "", "work directory (default: a new temporary directory, removed at the end)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.Parse()
	if c.n < 1 || c.rounds < 1 {
		return errors.New("-n and -rounds must be at least 1")
	}
	var err error
	for _, p := range []*string{&c.terraform, &c.provider} {
		if *p, err = exec.LookPath(*p); err != nil {
			return err
		}
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	if c.work == "" {
		if c.work, err = os.MkdirTemp("", "benchtf-"); err != nil {
			return err
		}
		if !c.keep {
			defer os.RemoveAll(c.work)
		}
	} else if err := os.MkdirAll(c.work, 0o700); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := startServer(ctx, c)
	if err != nil {
		return err
	}
	defer srv.stop()

	env, err := setup(c, srv)
	if err != nil {
		return err
	}
	version, err := cliVersion(c.terraform, env)
	if err != nil {
		return err
	}
	fmt.Printf("benchtf: N=%d, %d rounds, %s (%s), work dir %s\n", c.n, c.rounds, version, c.terraform, c.work)
	for _, k := range kinds {
		if _, err := tf(ctx, c, env, k, nil, "init", "-input=false", "-no-color"); err != nil {
			return err
		}
	}

	// results[kind][step] holds one sample per round.
	results := map[string][][]sample{}
	for _, k := range kinds {
		results[k] = make([][]sample, len(steps))
	}
	for r := range c.rounds {
		order := slices.Clone(kinds)
		if r%2 == 1 {
			slices.Reverse(order) // alternate who goes first
		}
		for _, k := range order {
			for i, s := range steps {
				smp, err := tf(ctx, c, env, k, srv, s.args...)
				if err != nil {
					return fmt.Errorf("round %d, %s: %w", r+1, k, err)
				}
				results[k][i] = append(results[k][i], smp)
				fmt.Printf("  round %d  %-14s  %-20s %7.2fs\n", r+1, k, s.name, smp.wall.Seconds())
			}
		}
	}
	report(os.Stdout, c, results)
	return nil
}

// server is the Nimbus server of the run.
type server struct {
	cmd      *exec.Cmd
	endpoint string
	token    string
	done     chan struct{}
}

func startServer(ctx context.Context, c config) (*server, error) {
	token := fmt.Sprintf("bench-%d-%d", os.Getpid(), time.Now().UnixNano())
	cfg := filepath.Join(c.work, "server.json")
	body, err := json.Marshal(map[string]any{
		"tenants": []string{tenant},
		"tokens":  []map[string]any{{"name": "bench", "secret": token, "tenants": []string{tenant}}},
	})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(cfg, body, 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logf, err := os.Create(filepath.Join(c.work, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, c.provider, "server", "--in-memory", "--listen", addr, "--config", cfg, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, endpoint: "http://" + addr, token: token, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	for deadline := time.Now().Add(15 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("the server exited; see %s", logf.Name())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("the server did not listen on %s within 15 s; see %s", addr, logf.Name())
		}
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// cpu is the server's CPU time so far (Linux /proc; 0 elsewhere).
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): state is
	// field 3, utime 14 and stime 15, in clock ticks (USER_HZ, 100 on Linux).
	rest := b[bytes.LastIndexByte(b, ')')+2:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// setup writes the filesystem mirror, the CLI configuration and the two
// configurations, and returns the environment of every CLI run.
func setup(c config, srv *server) ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	wrapper, err := os.ReadFile(self)
	if err != nil {
		return nil, err
	}
	mirror := filepath.Join(c.work, "mirror")
	platform := runtime.GOOS + "_" + runtime.GOARCH
	for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		dir := filepath.Join(mirror, host, "nimbus", "nimbus", providerVersion, platform)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "terraform-provider-nimbus_v"+providerVersion), wrapper, 0o755); err != nil { //nolint:gosec // G703: dir is under the benchmark's own work directory
			return nil, err
		}
	}
	rc := filepath.Join(c.work, "terraformrc")
	if err := os.WriteFile(rc, fmt.Appendf(nil, `provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["nimbus/nimbus"]
  }
}
`, mirror), 0o600); err != nil {
		return nil, err
	}
	files := map[string]string{
		"nimbus_service": fmt.Sprintf(`terraform {
  required_providers {
    nimbus = { source = "nimbus/nimbus" }
  }
}

provider "nimbus" {}

resource "nimbus_service" "s" {
  count    = %d
  name     = "bench-${count.index}"
  built_in = { provider = "loadBalancer" }
}
`, c.n),
		"terraform_data": fmt.Sprintf(`resource "terraform_data" "d" {
  count = %d
  input = "bench-${count.index}"
}
`, c.n),
	}
	for k, body := range files {
		dir := filepath.Join(c.work, k)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(body), 0o600); err != nil {
			return nil, err
		}
	}
	stats := filepath.Join(c.work, "stats")
	if err := os.MkdirAll(stats, 0o700); err != nil {
		return nil, err
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return strings.HasPrefix(name, "NIMBUS_") || strings.HasPrefix(name, "TF_CLI_ARGS") ||
			name == "TF_CLI_CONFIG_FILE" || name == "TF_PLUGIN_CACHE_DIR"
	})
	return append(env,
		"TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"NIMBUS_ENDPOINT="+srv.endpoint, "NIMBUS_TOKEN="+srv.token, "NIMBUS_TENANT_ID="+tenant,
		envWrapProvider+"="+c.provider, envWrapStats+"="+stats,
	), nil
}

func cliVersion(terraform string, env []string) (string, error) {
	cmd := exec.Command(terraform, "version")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %w", terraform, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line), nil
}

// tf runs the CLI in kind's directory and measures it (srv nil: untimed).
func tf(ctx context.Context, c config, env []string, kind string, srv *server, args ...string) (sample, error) {
	stats := filepath.Join(c.work, "stats")
	if err := clearDir(stats); err != nil {
		return sample{}, err
	}
	logPath := filepath.Join(c.work, kind+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return sample{}, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n$ terraform %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, c.terraform, append([]string{"-chdir=" + filepath.Join(c.work, kind)}, args...)...)
	cmd.Env = env
	var tail tailBuffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(logf, &tail), io.MultiWriter(logf, &tail)
	var srvBefore time.Duration
	if srv != nil {
		srvBefore = srv.cpu()
	}
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("terraform %s: %w\n%s(log: %s)", args[0], err, tail.String(), logPath)
	}
	s := sample{wall: wall}
	if srv != nil {
		s.serverCPU = srv.cpu() - srvBefore
	}
	// The terraform process's rusage includes its reaped children: the
	// wrappers, whose own stats include the providers they ran.
	total := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	entries, err := os.ReadDir(stats)
	if err != nil {
		return sample{}, err
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(stats, e.Name()))
		if err != nil {
			return sample{}, err
		}
		var p procStats
		if err := json.Unmarshal(b, &p); err != nil {
			return sample{}, fmt.Errorf("%s: %w", e.Name(), err)
		}
		s.providerCPU += p.CPU
		s.providerRSS = max(s.providerRSS, p.MaxRSS)
	}
	s.coreCPU = total - s.providerCPU
	return s, nil
}

func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// tailBuffer keeps the last 4 KiB written to it (for error messages).
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - 4096; over > 0 {
		t.b = t.b[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// ---------------------------------------------------------------- report

func median(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianOf(samples []sample, f func(sample) time.Duration) time.Duration {
	xs := make([]time.Duration, len(samples))
	for i, s := range samples {
		xs[i] = f(s)
	}
	return median(xs)
}

func report(out io.Writer, c config, results map[string][][]sample) {
	svc, data := results["nimbus_service"], results["terraform_data"]
	fmt.Fprintf(out, "\nmedians of %d rounds, N=%d (wall: elapsed time; core: CPU of terraform itself; provider: CPU of the nimbus provider "+
		"processes; server: CPU of the Nimbus server; CPU ratio: core + provider + server CPU of nimbus_service over terraform_data's core CPU, "+
		"which a busy machine skews less than wall time)\n\n", c.rounds, c.n)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "step\tnimbus_service wall\tterraform_data wall\tratio\tcore CPU (svc / data)\tprovider CPU\tper resource\tserver CPU\tCPU ratio\tprovider peak RSS\t")
	for i, s := range steps {
		sw, dw := medianOf(svc[i], func(s sample) time.Duration { return s.wall }), medianOf(data[i], func(s sample) time.Duration { return s.wall })
		pc := medianOf(svc[i], func(s sample) time.Duration { return s.providerCPU })
		var rss int64
		for _, x := range svc[i] {
			rss = max(rss, x.providerRSS)
		}
		sc, dc := medianOf(svc[i], func(s sample) time.Duration { return s.coreCPU }), medianOf(data[i], func(s sample) time.Duration { return s.coreCPU })
		srvc := medianOf(svc[i], func(s sample) time.Duration { return s.serverCPU })
		fmt.Fprintf(w, "%s\t%.2fs\t%.2fs\t%.1f×\t%.2fs / %.2fs\t%.2fs\t%.2fms\t%.2fs\t%.1f×\t%d MB\t\n", s.name,
			sw.Seconds(), dw.Seconds(), sw.Seconds()/dw.Seconds(), sc.Seconds(), dc.Seconds(),
			pc.Seconds(), float64(pc)/float64(time.Millisecond)/float64(c.n), srvc.Seconds(),
			(sc+pc+srvc).Seconds()/dc.Seconds(), rss/1024)
	}
	_ = w.Flush()
}

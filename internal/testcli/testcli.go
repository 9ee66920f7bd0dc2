// Package testcli runs a real Terraform or OpenTofu CLI against providers
// served in-process, for the features terraform-plugin-testing has no step
// for (`terraform apply -invoke=…`, `terraform query -generate-config-out=…`,
// `terraform test`). It is the one such harness; tests do not copy it.
//
// A test gets a working directory of its own, writes configuration into it
// and runs CLI commands there:
//
//	env := newTestServer(t)                    // the Nimbus server (internal/testserver)
//	cli := testcli.New(t, testcli.Options{
//		Providers: map[string]testcli.ProviderFactory{
//			"hashicorp/nimbus": providerserver.NewProtocol6WithError(provider.New("test")()),
//		},
//	})
//	cli.WriteFile("main.tf", env.Config(`resource "nimbus_service" "lb" { … }`))
//	cli.MustRun("init")
//	cli.MustRun("apply", "-auto-approve")
//	out := cli.MustRun("apply", "-auto-approve", "-invoke=action.nimbus_service_restart.lb")
//	stdout, stderr, err := cli.Run("query", "-generate-config-out=generated.tf")
//
// How it works, as terraform-plugin-testing does it: for every Run each
// provider factory is served on a fresh in-process gRPC server (go-plugin's
// test mode) and the CLI is pointed at it with TF_REATTACH_PROVIDERS, so no
// provider binary is built and `terraform init` needs no registry. The
// provider runs inside the test process: a debugger, the race detector and
// coverage see it, and it reaches the in-process Nimbus server on loopback.
//
// The CLI is the one acceptance tests use: Options.CLI, else
// TF_ACC_TERRAFORM_PATH, else `terraform` on PATH. Like resource.Test, New
// skips the test unless TF_ACC is set. Every Run has this environment: the
// test process's own, minus the TF_* variables that would change what the
// CLI does (TF_CLI_ARGS*, TF_WORKSPACE, TF_DATA_DIR, TF_PLUGIN_CACHE_DIR,
// TF_REATTACH_PROVIDERS, TF_CLI_CONFIG_FILE), plus CHECKPOINT_DISABLE=1,
// TF_IN_AUTOMATION=1, TF_INPUT=0, TF_CLI_CONFIG_FILE pointing at an empty CLI
// configuration in the working directory, TF_REATTACH_PROVIDERS, and
// Options.Env last.
//
// New also writes testcli_providers.tf with a required_providers entry for
// every provider (the local name is the type: "nimbus"), unless
// Options.NoRequiredProviders is set, for instance when the directory holds a
// module with its own required_providers block (CopyDir).
package testcli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// ProviderFactory makes a provider server, as in
// resource.TestCase.ProtoV6ProviderFactories (for example
// providerserver.NewProtocol6WithError(provider.New("test")())).
type ProviderFactory func() (tfprotov6.ProviderServer, error)

// Options configures New.
type Options struct {
	// Providers to serve in-process, by source address: "hashicorp/nimbus"
	// (no host: reachable as registry.terraform.io/hashicorp/nimbus and
	// registry.opentofu.org/hashicorp/nimbus) or a full address such as
	// "registry.terraform.io/nimbus/nimbus".
	Providers map[string]ProviderFactory
	// CLI is the path of the Terraform or OpenTofu binary; default
	// TF_ACC_TERRAFORM_PATH, else `terraform` on PATH.
	CLI string
	// Dir is the working directory; default a new t.TempDir().
	Dir string
	// Env holds extra "KEY=value" entries for every Run (they win over the
	// harness's own).
	Env []string
	// NoRequiredProviders leaves out testcli_providers.tf.
	NoRequiredProviders bool
}

// CLI is a working directory and the CLI that runs in it.
type CLI struct {
	t         testing.TB
	path      string
	dir       string
	cliConfig string
	env       []string
	providers []servedProvider
}

type servedProvider struct {
	addresses []string // full source addresses to reattach under
	factory   ProviderFactory
}

// New prepares a working directory for t. It skips the test unless TF_ACC
// is set and fails it when no CLI can be found.
func New(t testing.TB, opts Options) *CLI {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc does) to run the CLI")
	}
	cliPath, err := resolveCLI(opts.CLI)
	if err != nil {
		t.Fatal(err)
	}
	dir := opts.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	cfgDir := t.TempDir()
	c := &CLI{t: t, path: cliPath, dir: dir, cliConfig: filepath.Join(cfgDir, "cli.tfrc"), env: opts.Env}
	if err := os.WriteFile(c.cliConfig, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	names := make([]string, 0, len(opts.Providers))
	for src := range opts.Providers {
		names = append(names, src)
	}
	sort.Strings(names)
	var required strings.Builder
	for _, src := range names {
		addrs, typ, err := reattachAddresses(src)
		if err != nil {
			t.Fatal(err)
		}
		c.providers = append(c.providers, servedProvider{addresses: addrs, factory: opts.Providers[src]})
		fmt.Fprintf(&required, "    %s = {\n      source = %q\n    }\n", typ, src)
	}
	if len(names) > 0 && !opts.NoRequiredProviders {
		c.WriteFile("testcli_providers.tf",
			"# Written by internal/testcli.\nterraform {\n  required_providers {\n"+required.String()+"  }\n}\n")
	}
	return c
}

// Dir is the working directory.
func (c *CLI) Dir() string { return c.dir }

// Path is the CLI binary.
func (c *CLI) Path() string { return c.path }

// WriteFile writes content to name (relative to Dir, directories created).
func (c *CLI) WriteFile(name, content string) {
	c.t.Helper()
	p := filepath.Join(c.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// ReadFile returns the content of name (relative to Dir).
func (c *CLI) ReadFile(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(name)))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

// CopyDir copies the files under src (for example a module under examples/)
// into Dir, skipping .terraform directories, lock and state files.
func (c *CLI) CopyDir(src string) {
	c.t.Helper()
	if err := copyDir(c.dir, src); err != nil {
		c.t.Fatalf("copy %s: %v", src, err)
	}
}

func copyDir(dst, src string) error {
	from, err := os.OpenRoot(src)
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer to.Close()
	return fs.WalkDir(from.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if name == ".terraform" {
				return fs.SkipDir
			}
			return to.MkdirAll(p, 0o750)
		}
		if name == ".terraform.lock.hcl" || strings.HasSuffix(name, ".tfstate") || strings.Contains(name, ".tfstate.") {
			return nil
		}
		b, err := from.ReadFile(p)
		if err != nil {
			return err
		}
		return to.WriteFile(p, b, 0o644)
	})
}

// Run runs the CLI with args in Dir, the providers served for the duration
// of the command, and returns what it printed. err is non-nil when the
// command could not run or exited non-zero (an *exec.ExitError then). The
// command is killed when the test's context ends (its deadline).
func (c *CLI) Run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	return c.RunContext(c.t.Context(), args...)
}

// RunContext is Run with a context of the caller's.
func (c *CLI) RunContext(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	reattach, wait, err := c.serve(ctx)
	defer func() {
		cancel() // stops the provider servers
		wait()
	}()
	if err != nil {
		return "", "", err
	}

	var outBuf, errBuf bytes.Buffer
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Dir = c.dir
	cmd.Env = c.environ(reattach)
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf
	cmd.WaitDelay = cmdWaitDelay
	c.t.Logf("testcli: %s %s", filepath.Base(c.path), strings.Join(args, " "))
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w", filepath.Base(c.path), strings.Join(args, " "), err)
	}
	return outBuf.String(), errBuf.String(), err
}

// MustRun is Run failing the test (with both outputs) on an error; it
// returns stdout.
func (c *CLI) MustRun(args ...string) string {
	c.t.Helper()
	stdout, stderr, err := c.Run(args...)
	if err != nil {
		c.t.Fatalf("%v\n--- stdout\n%s\n--- stderr\n%s", err, stdout, stderr)
	}
	return stdout
}

// Info identifies the CLI binary (see Identify).
func (c *CLI) Info() Info {
	c.t.Helper()
	info, err := Identify(c.path)
	if err != nil {
		c.t.Fatal(err)
	}
	return info
}

// environ is the environment of one command (see the package comment).
func (c *CLI) environ(reattach string) []string {
	drop := []string{"TF_CLI_ARGS", "TF_WORKSPACE", "TF_DATA_DIR", "TF_PLUGIN_CACHE_DIR", "TF_REATTACH_PROVIDERS", "TF_CLI_CONFIG_FILE",
		"CHECKPOINT_DISABLE", "TF_IN_AUTOMATION", "TF_INPUT"}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			if k == d || (d == "TF_CLI_ARGS" && strings.HasPrefix(k, "TF_CLI_ARGS_")) {
				keep = false
				break
			}
		}
		if keep {
			env = append(env, kv)
		}
	}
	env = append(env,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"TF_CLI_CONFIG_FILE="+c.cliConfig,
	)
	if reattach != "" {
		env = append(env, "TF_REATTACH_PROVIDERS="+reattach)
	}
	return append(env, c.env...)
}

// reattachConfig is the JSON shape of one TF_REATTACH_PROVIDERS entry.
type reattachConfig struct {
	Protocol        string
	ProtocolVersion int
	Pid             int
	Test            bool
	Addr            struct{ Network, String string }
}

// serve starts every provider and returns the TF_REATTACH_PROVIDERS value;
// wait blocks until the servers have stopped after ctx ends.
func (c *CLI) serve(ctx context.Context) (reattach string, wait func(), err error) {
	var wg sync.WaitGroup
	wait = wg.Wait
	if len(c.providers) == 0 {
		return "", wait, nil
	}
	all := map[string]reattachConfig{}
	for _, p := range c.providers {
		server, err := p.factory()
		if err != nil {
			return "", wait, fmt.Errorf("provider %s: %w", p.addresses[0], err)
		}
		configCh := make(chan *plugin.ReattachConfig, 1)
		closeCh := make(chan struct{})
		serveErr := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Returns once ctx ends and the server has stopped.
			serveErr <- tf6server.Serve(p.addresses[0], func() tfprotov6.ProviderServer { return server },
				tf6server.WithDebug(ctx, configCh, closeCh),
				tf6server.WithGoPluginLogger(hclog.NewNullLogger()),
				// Provider logs (tflog) as in resource.Test: off unless TF_LOG,
				// TF_ACC_LOG_PATH or TF_LOG_PATH_MASK asks for them.
				tf6server.WithLoggingSink(sinkT{c.t}))
		}()
		var rc *plugin.ReattachConfig
		select {
		case rc = <-configCh:
		case err := <-serveErr:
			if err == nil {
				err = errors.New("it stopped before it listened")
			}
			return "", wait, fmt.Errorf("serve provider %s: %w", p.addresses[0], err)
		case <-ctx.Done():
			return "", wait, fmt.Errorf("serve provider %s: %w", p.addresses[0], ctx.Err())
		}
		var cfg reattachConfig
		cfg.Protocol = string(rc.Protocol)
		cfg.ProtocolVersion = rc.ProtocolVersion
		cfg.Pid = rc.Pid
		cfg.Test = rc.Test // true: the CLI leaves the server running when it is done
		cfg.Addr.Network = rc.Addr.Network()
		cfg.Addr.String = rc.Addr.String()
		for _, a := range p.addresses {
			all[a] = cfg
		}
	}
	b, err := json.Marshal(all)
	if err != nil {
		return "", wait, err
	}
	return string(b), wait, nil
}

// sinkT adapts testing.TB to the test handle tf6server.WithLoggingSink
// takes (it only calls Name).
type sinkT struct{ testing.TB }

func (sinkT) Parallel() {}

// reattachAddresses expands a source address into the full addresses the
// CLIs may look the provider up by, and returns its type (the local name).
func reattachAddresses(src string) (addrs []string, typ string, err error) {
	parts := strings.Split(src, "/")
	switch len(parts) {
	case 2:
		return []string{"registry.terraform.io/" + src, "registry.opentofu.org/" + src}, parts[1], nil
	case 3:
		return []string{src}, parts[2], nil
	default:
		return nil, "", fmt.Errorf("provider source %q: want NAMESPACE/TYPE or HOST/NAMESPACE/TYPE", src)
	}
}

// resolveCLI finds the CLI binary (see Options.CLI).
func resolveCLI(p string) (string, error) {
	if p == "" {
		p = os.Getenv("TF_ACC_TERRAFORM_PATH")
	}
	if p == "" {
		lp, err := exec.LookPath("terraform")
		if err != nil {
			return "", errors.New("no CLI to run: set TF_ACC_TERRAFORM_PATH (make testacc does) or put terraform on PATH")
		}
		p = lp
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return abs, nil
}

// Info is what a CLI binary says it is.
type Info struct {
	// Product is "Terraform" or "OpenTofu".
	Product string
	// Version is the version the CLI reports (OpenTofu's own numbering).
	Version *version.Version
}

// OpenTofu reports whether the CLI is OpenTofu.
func (i Info) OpenTofu() bool { return i.Product == ProductOpenTofu }

// The products Identify tells apart.
const (
	ProductTerraform = "Terraform"
	ProductOpenTofu  = "OpenTofu"
)

var (
	identifyMu    sync.Mutex
	identifyCache = map[string]Info{}
)

// Identify runs `<path> version` once per path and process and parses its
// first line ("Terraform v1.16.4", "OpenTofu v1.12.6"). An empty path means
// the CLI the acceptance tests run (TF_ACC_TERRAFORM_PATH, else terraform on
// PATH).
func Identify(p string) (Info, error) {
	p, err := resolveCLI(p)
	if err != nil {
		return Info{}, err
	}
	identifyMu.Lock()
	defer identifyMu.Unlock()
	if info, ok := identifyCache[p]; ok {
		return info, nil
	}
	cmd := exec.Command(p, "version")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		return Info{}, fmt.Errorf("%s version: %w", p, err)
	}
	info, err := parseVersion(bytes.NewReader(out))
	if err != nil {
		return Info{}, fmt.Errorf("%s version: %w", p, err)
	}
	identifyCache[p] = info
	return info, nil
}

// parseVersion reads the "<Product> v<version>" line of `version` output;
// lines before it (a CLI-config warning, say) are skipped.
func parseVersion(r io.Reader) (Info, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 || !strings.HasPrefix(fields[1], "v") {
			continue
		}
		switch fields[0] {
		case ProductTerraform, ProductOpenTofu:
		default:
			continue
		}
		v, err := version.NewVersion(strings.TrimPrefix(fields[1], "v"))
		if err != nil {
			return Info{}, fmt.Errorf("version %q: %w", fields[1], err)
		}
		return Info{Product: fields[0], Version: v}, nil
	}
	if err := sc.Err(); err != nil {
		return Info{}, err
	}
	return Info{}, errors.New(`no "Terraform vX.Y.Z" or "OpenTofu vX.Y.Z" line in the output`)
}

// cmdWaitDelay bounds how long Run waits for the CLI's output pipes after
// the process ends or is killed.
const cmdWaitDelay = 10 * time.Second

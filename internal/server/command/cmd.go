package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/server"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/auth"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
)

// FileConfig is the --config file: JSON, unknown fields rejected.
//
//	{
//	  "tenants": ["team-a", "team-b"],
//	  "tokens":  [{"name": "ci", "secret": "…", "tenants": ["*"]}],
//	  "apiKeys": [{"name": "svc", "secret": "…", "tenants": ["team-a"]}],
//	  "trustedIssuers": [{"name": "hcp-terraform", "issuer": "https://app.terraform.io", "audiences": ["nimbus"],
//	    "rules": [{"subject": "organization:acme:project:*:workspace:*:run_phase:apply", "tenants": ["team-a"], "access": "readWrite"}]}]
//	}
//
// trustedIssuers accept workload-identity tokens (see wif.IssuerConfig).
type FileConfig struct {
	Tenants        []string           `json:"tenants,omitempty"`
	Tokens         []FileCredential   `json:"tokens,omitempty"`
	APIKeys        []FileCredential   `json:"apiKeys,omitempty"`
	TrustedIssuers []wif.IssuerConfig `json:"trustedIssuers,omitempty"`
}

// FileCredential is one credential of the config file.
type FileCredential struct {
	Name    string   `json:"name,omitempty"`
	Secret  string   `json:"secret"`
	Tenants []string `json:"tenants"`
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// secretFlag collects credentials without ever printing them. The flag
// package quotes the value of a flag whose Set fails, so Set never fails:
// it records the problem in errs (without the value) for Main to report.
type secretFlag struct {
	name  string
	kind  string
	creds *[]auth.Credential
	errs  *[]string
}

func (f secretFlag) String() string { return "" }
func (f secretFlag) Set(v string) error {
	c, err := auth.ParseCredentialFlag(f.kind, v)
	if err != nil {
		*f.errs = append(*f.errs, fmt.Sprintf("invalid value for flag -%s (not shown: it holds a secret): %v", f.name, err))
		return nil
	}
	*f.creds = append(*f.creds, c)
	return nil
}

// DefaultDataDir is $XDG_DATA_HOME/nimbus, else ~/.local/share/nimbus.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "nimbus")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "nimbus")
	}
	return "nimbus-data"
}

// Main runs the `server` sub-command (args exclude "server") until ctx ends
// (SIGINT/SIGTERM in main.go); it returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("terraform-provider-nimbus server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var creds []auth.Credential
	var issuers []wif.IssuerConfig
	var tenants multiFlag
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free port)")
	dataDir := fs.String("data-dir", "", "directory of the durable bbolt store (default "+DefaultDataDir()+")")
	inMemory := fs.Bool("in-memory", false, "keep everything in memory (nothing survives a restart)")
	configPath := fs.String("config", "", "JSON config file with tenants, tokens, apiKeys and trustedIssuers (see the API reference)")
	var flagErrs []string
	fs.Var(secretFlag{"token", auth.CredentialToken, &creds, &flagErrs}, "token", "accepted bearer token, as SECRET=TENANT[,TENANT…] or SECRET=* (repeatable; prefer --config: flags show in ps)")
	fs.Var(secretFlag{"api-key", auth.CredentialAPIKey, &creds, &flagErrs}, "api-key", "accepted X-Nimbus-Api-Key, as SECRET=TENANT[,TENANT…] or SECRET=* (repeatable)")
	fs.Var(&tenants, "tenant", "tenant id that exists (repeatable; tenants named by credentials exist too)")
	rtName := fs.String("runtime", "simulated", "sandbox runtime: simulated, or process (really runs argv on this host, without isolation)")
	startDelay := fs.Duration("sim-start-delay", 500*time.Millisecond, "simulated runtime: how long a sandbox takes to start")
	stopDelay := fs.Duration("sim-stop-delay", 200*time.Millisecond, "simulated runtime: how long a sandbox takes to stop")
	healthInterval := fs.Duration("health-interval", 10*time.Second, "interval of external services' HTTP health checks")
	shutdownTimeout := fs.Duration("shutdown-timeout", 15*time.Second, "how long a graceful shutdown waits for requests in flight")
	rateLimit := fs.Float64("rate-limit", 0, "requests per second allowed per credential (0 = unlimited); excess gets rate.limited")
	maxInFlight := fs.Int("max-in-flight", 0, "maximum concurrent requests (0 = unlimited); excess gets server.unavailable")
	bodyTimeout := fs.Duration("body-timeout", 10*time.Second, "how long a request body may take to arrive; slower senders get request.timeout")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	dev := fs.Bool("dev", false, "development mode: in-memory store (unless --data-dir), a generated token, tenant \"demo\"; prints the export lines to use it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(flagErrs) > 0 {
		for _, e := range flagErrs {
			fmt.Fprintln(stderr, e)
		}
		fs.Usage()
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "nimbus server: "+format+"\n", a...)
		return 1
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fail("--log-level %q: use debug, info, warn or error", *logLevel)
	}
	hopts := &slog.HandlerOptions{Level: level}
	var logger *slog.Logger
	switch *logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(stderr, hopts))
	case "json":
		logger = slog.New(slog.NewJSONHandler(stderr, hopts))
	default:
		return fail("--log-format %q: use text or json", *logFormat)
	}

	if *configPath != "" {
		fc, err := readFileConfig(*configPath)
		if err != nil {
			return fail("%v", err)
		}
		tenants = append(tenants, fc.Tenants...)
		for _, c := range fc.Tokens {
			creds = append(creds, auth.Credential{Kind: auth.CredentialToken, Secret: c.Secret, Tenants: c.Tenants, Name: c.Name})
		}
		for _, c := range fc.APIKeys {
			creds = append(creds, auth.Credential{Kind: auth.CredentialAPIKey, Secret: c.Secret, Tenants: c.Tenants, Name: c.Name})
		}
		issuers = fc.TrustedIssuers
	}
	var devTok string
	devTokReused := false
	if *dev {
		var err error
		if *dataDir != "" && !*inMemory {
			devTok, devTokReused, err = devToken(*dataDir)
		} else {
			devTok, err = newDevToken()
		}
		if err != nil {
			return fail("%v", err)
		}
		creds = append(creds, auth.Credential{Kind: auth.CredentialToken, Secret: devTok, Tenants: []string{"*"}, Name: "dev-token"})
		tenants = append(tenants, "demo")
	}
	if len(creds) == 0 && len(issuers) == 0 {
		return fail("no credentials configured: give --token SECRET=TENANT, --api-key SECRET=TENANT or --config FILE with tokens, apiKeys or trustedIssuers (or run with --dev)")
	}

	var st store.Store
	switch {
	case *inMemory && *dataDir != "":
		return fail("--in-memory and --data-dir exclude each other")
	case *inMemory || (*dev && *dataDir == ""):
		st = store.NewMem()
	default:
		dir := *dataDir
		if dir == "" {
			dir = DefaultDataDir()
		}
		bs, err := store.OpenBolt(dir)
		if err != nil {
			return fail("%v", err)
		}
		st = bs
		logger.Info("store opened", "path", filepath.Join(dir, store.BoltFileName))
	}

	var rt runtimes.Runtime
	switch *rtName {
	case "simulated":
		rt = runtimes.NewSimulated(runtimes.SimulatedOptions{StartDelay: *startDelay, StopDelay: *stopDelay})
	case "process":
		rt = runtimes.NewProcess(runtimes.ProcessOptions{})
		logger.Warn("process runtime enabled: sandboxes run as host processes without isolation")
	default:
		st.Close()
		return fail("--runtime %q: use simulated or process", *rtName)
	}

	// The port opens before the store is loaded: clients connecting now wait
	// in the listen backlog instead of being refused, and New returns as
	// soon as recovery is recorded (services start again in the background).
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		st.Close()
		return fail("listen on %s: %v", *listen, err)
	}
	srv, err := server.New(server.Config{Store: st, Runtime: rt, Clock: clock.Real(), Logger: logger, Credentials: creds,
		TrustedIssuers: issuers, Tenants: tenants, HealthInterval: *healthInterval, RateLimit: *rateLimit, MaxInFlight: *maxInFlight, BodyTimeout: *bodyTimeout})
	if err != nil {
		ln.Close()
		st.Close()
		return fail("%v", err)
	}
	endpoint := "http://" + ln.Addr().String()
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	logger.Info("Nimbus server listening", "endpoint", endpoint, "runtime", rt.Name(), "tenants", strings.Join(srv.Tenants(), ","))
	if *dev {
		var b bytes.Buffer
		fmt.Fprintf(&b, "Nimbus dev server on %s (", endpoint)
		if *dataDir == "" {
			b.WriteString("in-memory store: everything is lost on exit, and the token changes on every start")
		} else {
			fmt.Fprintf(&b, "store in %s; the token is kept in %s and stays the same across restarts", *dataDir, filepath.Join(*dataDir, DevTokenFileName))
			if devTokReused {
				b.WriteString(", as before")
			}
		}
		fmt.Fprintf(&b, "). Paste these lines into your shell:\n\n")
		fmt.Fprintf(&b, "export NIMBUS_ENDPOINT=%s\nexport NIMBUS_TOKEN=%s\nexport NIMBUS_TENANT_ID=demo\n\n", endpoint, devTok)
		_, _ = stdout.Write(b.Bytes())
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	select {
	case err := <-serveErr:
		srv.Close()
		return fail("serve: %v", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests", "timeout", shutdownTimeout.String())
	srv.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	_ = srv.WaitIdle(sctx)
	if err := hs.Shutdown(sctx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	if err := srv.Close(); err != nil {
		return fail("close: %v", err)
	}
	logger.Info("stopped")
	return 0
}

func readFileConfig(path string) (*FileConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	var fc FileConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return nil, fmt.Errorf("--config %s: invalid JSON (expected {\"tenants\":[…],\"tokens\":[{\"secret\":…,\"tenants\":[…]}],\"apiKeys\":[…],\"trustedIssuers\":[…]}): %w", path, err)
	}
	return &fc, nil
}

// Package testserver starts an in-process Nimbus server on loopback for
// tests: the one harness shared by the client, provider and e2e tests.
//
//	srv := testserver.Start(t)                          // in-memory, tenant "acc"
//	srv := testserver.Start(t, testserver.WithFakeClock()) // srv.Clock.Advance(…) drives session expiry
//	srv := testserver.Start(t, func(o *testserver.Options) { o.DataDir = t.TempDir() })
//	srv.Restart(t)                                      // same DataDir, same credentials
//	srv.RestartWith(t, func(o *testserver.Options) { o.StartDelay = 5 * time.Second })
//	srv := testserver.Start(t, testserver.WithTrustedIssuers(cfg)) // also accept workload-identity JWTs
//
// Restart returns as soon as the server answers again: services and
// sandboxes it was running show starting / pending and come back in the
// background (srv.Server.Recovered() is closed when recovery has run);
// WrapRuntime can hold their launches to look at the server meanwhile.
//
// Time: with a fake clock, server time (timestamps, session expiresAt and
// expiry) only moves when the test calls Clock.Advance or Clock.Set. The
// simulated runtime's start/stop delays and the external health-check
// interval always run on real time (short defaults: 20ms and 50ms), so
// services and sandboxes reach running without the test advancing anything.
package testserver

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/server"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
)

// Fixed credentials, allowed in every tenant.
const (
	Token  = "nimbus-test-token-0123456789abcdef"
	APIKey = "nimbus-test-apikey-0123456789abcdef"
)

// Options configures Start.
type Options struct {
	// Tenants that exist; default ["acc"]. The first is Server.Tenant.
	Tenants []string
	// Runtime is "simulated" (default) or "process".
	Runtime string
	// StartDelay and StopDelay of the simulated runtime; default 20ms each.
	StartDelay, StopDelay time.Duration
	// HealthInterval of external health checks; default 50ms.
	HealthInterval time.Duration
	// DataDir holds a bbolt store; "" means in-memory.
	DataDir string
	// Clock is the server clock; nil means real time, unless FakeClock.
	Clock clock.Clock
	// FakeClock makes the server run on a *clock.Fake (Server.Clock)
	// starting at the current time.
	FakeClock bool
	// Credentials adds tenant-bound credentials (for isolation tests), on
	// top of Token and APIKey.
	Credentials []server.Credential
	// Logger receives the server's logs; nil means t.Log at warn level
	// (NIMBUS_TEST_LOG_LEVEL=debug|info|warn|error changes the level).
	Logger *slog.Logger
	// RateLimit per credential (requests/second); 0 = off.
	RateLimit float64
	// MaxInFlight caps concurrent requests (server.unavailable above it);
	// 0 = off.
	MaxInFlight int
	// TrustedIssuers accept workload-identity tokens (see package
	// internal/server/wif and its wiftest issuer); their rules may name
	// only tenants of Tenants.
	TrustedIssuers []wif.IssuerConfig
	// WrapRuntime, if set, wraps the runtime the server uses (to delay or
	// gate launches, e.g. to hold recovery after a restart while the test
	// looks at the server).
	WrapRuntime func(runtimes.Runtime) runtimes.Runtime
	// WrapHandler, if set, wraps the server's HTTP handler (to observe or
	// act on requests as they arrive, e.g. rotate a token file mid-run).
	WrapHandler func(http.Handler) http.Handler
}

// WithFakeClock runs the server on a fake clock (Server.Clock).
func WithFakeClock() func(*Options) { return func(o *Options) { o.FakeClock = true } }

// WithTenants sets the tenants (the first is the default).
func WithTenants(t ...string) func(*Options) { return func(o *Options) { o.Tenants = t } }

// WithDataDir uses a durable bbolt store in dir.
func WithDataDir(dir string) func(*Options) { return func(o *Options) { o.DataDir = dir } }

// WithCredential adds a credential bound to tenants ("*" = all); kind is
// server.CredentialToken or server.CredentialAPIKey.
func WithCredential(kind, secret string, tenants ...string) func(*Options) {
	return func(o *Options) {
		o.Credentials = append(o.Credentials, server.Credential{Kind: kind, Secret: secret, Tenants: tenants})
	}
}

// WithTrustedIssuers accepts workload-identity tokens of these issuers.
func WithTrustedIssuers(issuers ...wif.IssuerConfig) func(*Options) {
	return func(o *Options) { o.TrustedIssuers = append(o.TrustedIssuers, issuers...) }
}

// Server is a running test server.
type Server struct {
	URL    string
	Token  string
	APIKey string
	Tenant string
	// Clock is the fake clock, or nil when the server runs on real time.
	Clock *clock.Fake
	// Server is the server itself (Drain, etc.).
	Server *server.Server

	opts    Options
	addr    string
	mu      sync.Mutex
	http    *http.Server
	stopped bool
	logMu   sync.Mutex
	logDone bool
}

// Start starts a server on 127.0.0.1:0; t.Cleanup stops it.
func Start(t testing.TB, opts ...func(*Options)) *Server {
	t.Helper()
	o := Options{Runtime: "simulated", StartDelay: 20 * time.Millisecond, StopDelay: 20 * time.Millisecond, HealthInterval: 50 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	if len(o.Tenants) == 0 {
		o.Tenants = []string{"acc"}
	}
	s := &Server{Token: Token, APIKey: APIKey, Tenant: o.Tenants[0], opts: o}
	if fc, ok := o.Clock.(*clock.Fake); ok {
		s.Clock = fc
	} else if o.Clock == nil && o.FakeClock {
		s.Clock = clock.NewFake(time.Now())
		s.opts.Clock = s.Clock
	}
	s.start(t, "127.0.0.1:0")
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(t testing.TB, addr string) {
	t.Helper()
	o := s.opts
	var store server.Store = server.NewMemStore()
	if o.DataDir != "" {
		bs, err := server.OpenBoltStore(o.DataDir)
		if err != nil {
			t.Fatalf("testserver: %v", err)
		}
		store = bs
	}
	var rt runtimes.Runtime
	switch o.Runtime {
	case "", "simulated":
		rt = runtimes.NewSimulated(runtimes.SimulatedOptions{StartDelay: o.StartDelay, StopDelay: o.StopDelay})
	case "process":
		rt = runtimes.NewProcess(runtimes.ProcessOptions{})
	default:
		t.Fatalf("testserver: unknown runtime %q", o.Runtime)
	}
	if o.WrapRuntime != nil {
		rt = o.WrapRuntime(rt)
	}
	logger := o.Logger
	if logger == nil {
		level := slog.LevelWarn
		if v := os.Getenv("NIMBUS_TEST_LOG_LEVEL"); v != "" {
			if err := level.UnmarshalText([]byte(v)); err != nil {
				t.Fatalf("testserver: NIMBUS_TEST_LOG_LEVEL=%q: use debug, info, warn or error", v)
			}
		}
		logger = slog.New(slog.NewTextHandler(testWriter{t: t, mu: &s.logMu, done: &s.logDone}, &slog.HandlerOptions{Level: level}))
	}
	creds := append([]server.Credential{
		{Kind: server.CredentialToken, Secret: Token, Tenants: []string{"*"}, Name: "test-token"},
		{Kind: server.CredentialAPIKey, Secret: APIKey, Tenants: []string{"*"}, Name: "test-api-key"},
	}, o.Credentials...)
	// Like the server command, listen before New: after a restart the port
	// answers as soon as New has recorded recovery.
	var ln net.Listener
	var err error
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond) // the previous listener on a fixed port is still closing
	}
	if err != nil {
		store.Close()
		t.Fatalf("testserver: listen: %v", err)
	}
	srv, err := server.New(server.Config{
		Store: store, Runtime: rt, Clock: o.Clock, Logger: logger, Credentials: creds, Tenants: o.Tenants,
		TrustedIssuers: o.TrustedIssuers, HealthInterval: o.HealthInterval, HealthTimeout: 2 * time.Second, RateLimit: o.RateLimit, MaxInFlight: o.MaxInFlight,
	})
	if err != nil {
		ln.Close()
		store.Close()
		t.Fatalf("testserver: %v", err)
	}
	handler := srv.Handler()
	if o.WrapHandler != nil {
		handler = o.WrapHandler(handler)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	s.mu.Lock()
	s.logMu.Lock()
	s.logDone = false
	s.logMu.Unlock()
	s.Server, s.http, s.stopped = srv, hs, false
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	s.mu.Unlock()
}

// Stop shuts the server down (idempotent).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	s.Server.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.http.Shutdown(ctx)
	_ = s.Server.Close()
	s.logMu.Lock()
	s.logDone = true
	s.logMu.Unlock()
}

// Restart stops the server and starts it again on the same address and
// store (DataDir; an in-memory store starts empty), credentials and clock.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.start(t, s.addr)
}

// RestartWith is Restart with changed options, for example a longer
// StartDelay so that the services and sandboxes the server starts again stay
// pending or starting for a while.
func (s *Server) RestartWith(t testing.TB, opts ...func(*Options)) {
	t.Helper()
	s.Stop()
	for _, f := range opts {
		f(&s.opts)
	}
	s.start(t, s.addr)
}

// Do sends an authenticated request (bearer Token) with a JSON body (nil
// for none) to path (e.g. "/v1/tenants/acc/services") and returns the
// response; the caller closes the body.
func (s *Server) Do(t testing.TB, method, path string, body []byte) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("testserver: %s %s: %v", method, path, err)
	}
	return resp
}

// testWriter logs through t until the server stops.
type testWriter struct {
	t    testing.TB
	mu   *sync.Mutex
	done *bool
}

func (w testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !*w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

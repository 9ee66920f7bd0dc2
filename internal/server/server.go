package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/auth"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/httpapi"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
)

// Config configures a Server.
type Config struct {
	// Store persists objects; nil means a new in-memory store.
	Store store.Store
	// Runtime runs sandboxes; nil means a simulated runtime without delays.
	Runtime runtimes.Runtime
	// Clock drives timestamps and session expiry; nil means the real clock.
	Clock clock.Clock
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Credentials are the accepted bearer tokens and API keys.
	Credentials []Credential
	// TrustedIssuers are the OpenID Connect issuers whose workload-identity
	// tokens (JWTs) are accepted as bearer tokens, with the rules that map
	// them to tenants (see package wif).
	TrustedIssuers []wif.IssuerConfig
	// Tenants are the tenants that exist (tenants named by credentials are
	// added automatically).
	Tenants []string
	// HealthInterval is how often external services are health-checked
	// (default 10s); HealthTimeout bounds one check (default 5s).
	HealthInterval time.Duration
	HealthTimeout  time.Duration
	// HealthClock times the health checks (the interval between them and
	// the time of each result); nil means the real clock, also when Clock
	// is a fake one.
	HealthClock clock.Clock
	// RetryAfter is the Retry-After of server.unavailable while draining
	// (default 1s).
	RetryAfter time.Duration
	// RateLimit, when > 0, is the sustained requests per second allowed per
	// credential (burst RateBurst, default 2×RateLimit); above it requests
	// get rate.limited.
	RateLimit float64
	RateBurst int
	// MaxInFlight, when > 0, caps concurrent requests (long-polls included);
	// above it requests get server.unavailable with Retry-After.
	MaxInFlight int
	// BodyTimeout bounds how long a request body may take to arrive
	// (default 10s); slower senders get request.timeout. Bodies are read
	// before a request counts against MaxInFlight.
	BodyTimeout time.Duration
}

// Server is a running Nimbus server (without its listener: see Handler):
// the domain, the HTTP API over it and the authenticator, wired together.
type Server struct {
	auth   *auth.Authenticator
	domain *domain.Domain
	api    *httpapi.API
}

// New builds a server over cfg.Store, loads every stored object and resumes
// what was running before: it records in one commit that services and
// standalone sandboxes whose desired state is running are starting again,
// closes sessions whose target cannot survive the restart, and returns;
// the objects are started again in the background (see Recovered), so the
// server can answer at once. Open sessions get their expiry timers back.
func New(cfg Config) (*Server, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	authn, err := auth.New(cfg.Credentials, cfg.Tenants, cfg.TrustedIssuers, wif.Options{Now: cfg.Clock.Now}, cfg.Logger)
	if err != nil {
		return nil, err
	}
	d, err := domain.New(domain.Config{Store: cfg.Store, Runtime: cfg.Runtime, Clock: cfg.Clock, Logger: cfg.Logger,
		HealthInterval: cfg.HealthInterval, HealthTimeout: cfg.HealthTimeout, HealthClock: cfg.HealthClock,
		TenantSeen: authn.AddTenant})
	if err != nil {
		return nil, err
	}
	a := httpapi.New(httpapi.Config{Domain: d, Auth: authn, Logger: cfg.Logger, RetryAfter: cfg.RetryAfter,
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, MaxInFlight: cfg.MaxInFlight, BodyTimeout: cfg.BodyTimeout})
	return &Server{auth: authn, domain: d, api: a}, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.api.Handler() }

// Domain is the server's domain layer (for tests that look below HTTP).
func (s *Server) Domain() *domain.Domain { return s.domain }

// Drain makes every new request fail with server.unavailable (Retry-After),
// wakes long-polls so they answer at once and cuts off requests whose body
// is still arriving. Requests already being served complete normally.
func (s *Server) Drain() { s.api.Drain() }

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.api.Draining() }

// WaitIdle blocks until no request is in flight or ctx ends.
func (s *Server) WaitIdle(ctx context.Context) error { return s.api.WaitIdle(ctx) }

// Close drains, stops the supervisor (runtime instances are stopped, but
// desired states are kept so the next start resumes them) and closes the
// store.
func (s *Server) Close() error {
	s.api.Drain()
	return s.domain.Close()
}

// Recovered is closed once recovery after the restart has brought back (or
// handed to client calls) every service and standalone sandbox that was
// running; objects still show starting or pending until then.
func (s *Server) Recovered() <-chan struct{} { return s.domain.Recovered() }

// Tenants lists every tenant that exists, sorted.
func (s *Server) Tenants() []string { return s.auth.Tenants() }

// Store persists the server's objects (see package store).
type Store = store.Store

// BoltFileName is the database file inside --data-dir.
const BoltFileName = store.BoltFileName

// ErrStoreClosed is returned by a store after Close.
var ErrStoreClosed = store.ErrClosed

// OpenBoltStore opens (creating if needed) the durable store in dir.
func OpenBoltStore(dir string) (*store.Bolt, error) { return store.OpenBolt(dir) }

// NewMemStore returns an empty in-memory store.
func NewMemStore() *store.Mem { return store.NewMem() }

// Credential is one accepted secret and the tenants it may use.
type Credential = auth.Credential

// Credential kinds.
const (
	CredentialToken            = auth.CredentialToken
	CredentialAPIKey           = auth.CredentialAPIKey
	CredentialWorkloadIdentity = auth.CredentialWorkloadIdentity
)

package httpapi

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/server/auth"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
)

// Config configures the HTTP API.
type Config struct {
	// Domain serves every call; Auth authenticates callers and knows the
	// tenants. Both are required.
	Domain *domain.Domain
	Auth   *auth.Authenticator
	// Logger receives the request log; nil discards it.
	Logger *slog.Logger
	// RetryAfter is the Retry-After of server.unavailable (default 1s).
	RetryAfter time.Duration
	// RateLimit, when > 0, is the sustained requests per second allowed per
	// credential (burst RateBurst, default 2×RateLimit).
	RateLimit float64
	RateBurst int
	// MaxInFlight, when > 0, caps concurrent requests (long-polls included).
	MaxInFlight int
	// BodyTimeout bounds how long a request body may take to arrive
	// (default 10s).
	BodyTimeout time.Duration
}

// API is the HTTP layer of the Nimbus server.
type API struct {
	cfg     Config
	d       *domain.Domain
	auth    *auth.Authenticator
	log     *slog.Logger
	limiter *rateLimiter
	pageKey []byte

	inflightN atomic.Int64
	bodies    bodyReaders
	draining  atomic.Bool
	drainCh   chan struct{}
	inflight  sync.WaitGroup
}

// pageTokenKey authenticates page tokens so a tampered or foreign token is
// request.invalid. It is fixed so tokens outlive a server restart; a token
// grants nothing (it only names a position in a list of the tenant in the
// path, for the same filter), so it needs integrity, not secrecy.
var pageTokenKey = sha256.Sum256([]byte("nimbus page token v1"))

// New returns the API over cfg.Domain.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = 10 * time.Second
	}
	s := &API{cfg: cfg, d: cfg.Domain, auth: cfg.Auth, log: cfg.Logger, pageKey: pageTokenKey[:], drainCh: make(chan struct{})}
	if cfg.RateLimit > 0 {
		s.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	return s
}

// Handler returns the HTTP handler of every route.
func (s *API) Handler() http.Handler { return s.routes() }

// Drain makes every new request fail with server.unavailable (Retry-After),
// wakes long-polls so they answer at once and cuts off requests whose body
// is still arriving. Requests already being served complete normally.
func (s *API) Drain() {
	if s.draining.CompareAndSwap(false, true) {
		close(s.drainCh)
		s.bodies.cutAll()
		s.log.Info("draining: new requests get server.unavailable")
	}
}

// Draining reports whether Drain was called.
func (s *API) Draining() bool { return s.draining.Load() }

// WaitIdle blocks until no request is in flight or ctx ends.
func (s *API) WaitIdle(ctx context.Context) error {
	ch := make(chan struct{})
	go func() { s.inflight.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// authenticate finds the credential of r (see auth.Authenticator).
func (s *API) authenticate(r *http.Request) (auth.Principal, *apiError) {
	p, e := s.auth.Authenticate(r, requestID(r))
	if e != nil {
		return p, &apiError{Code: e.Code, Message: e.Message, Details: e.Details}
	}
	return p, nil
}

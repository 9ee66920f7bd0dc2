package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/auth"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/health"
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

// Server is a running Nimbus server (without its listener: see Handler).
type Server struct {
	cfg     Config
	store   store.Store
	rt      runtimes.Runtime
	clk     clock.Clock
	log     *slog.Logger
	auth    *auth.Authenticator
	limiter *rateLimiter
	monitor *health.Monitor

	services  *table[serviceRec]
	sandboxes *table[sandboxRec]
	sessions  *table[sessionRec]
	idem      *table[idemRec] // idempotency records (idempotency.go)
	idemSwept atomic.Int64    // when expired records were last dropped (Unix ms)
	locks     keyLocks
	watch     watchers
	rvSeq     atomic.Uint64
	pageKey   []byte

	instMu       sync.Mutex
	insts        map[string]*instance // objKey(kindSandbox,…) -> running instance
	epoch        atomic.Uint64
	healthEpochs sync.Map // objKey(kindService,…) -> uint64

	recovering sync.Map      // objKey -> struct{}: marked for recovery, not yet started again
	recovered  chan struct{} // closed when recovery has run (Recovered)

	sessMu     sync.Mutex
	sessTimers map[string]chan struct{} // objKey(kindSession,…) -> cancel

	inflightN atomic.Int64
	bodies    bodyReaders
	draining  atomic.Bool
	drainCh   chan struct{}
	inflight  sync.WaitGroup
	done      chan struct{}
	bgCtx     context.Context
	bgCancel  context.CancelFunc
	bgWG      sync.WaitGroup
	closeOnce sync.Once
}

// pageTokenKey authenticates page tokens so a tampered or foreign token is
// request.invalid. It is fixed so tokens outlive a server restart; a token
// grants nothing (it only names a position in a list of the tenant in the
// path, for the same filter), so it needs integrity, not secrecy.
var pageTokenKey = sha256.Sum256([]byte("nimbus page token v1"))

type instance struct {
	epoch uint64
	inst  runtimes.Instance
}

// New builds a server over cfg.Store, loads every stored object and resumes
// what was running before: it records in one commit that services and
// standalone sandboxes whose desired state is running are starting again,
// closes sessions whose target cannot survive the restart, and returns;
// the objects are started again in the background (see Recovered), so the
// server can answer at once. Open sessions get their expiry timers back.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		cfg.Store = store.NewMem()
	}
	if cfg.Runtime == nil {
		cfg.Runtime = runtimes.NewSimulated(runtimes.SimulatedOptions{})
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 10 * time.Second
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 5 * time.Second
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = 10 * time.Second
	}
	authn, err := auth.New(cfg.Credentials, cfg.Tenants, cfg.TrustedIssuers, wif.Options{Now: cfg.Clock.Now}, cfg.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, store: cfg.Store, rt: cfg.Runtime, clk: cfg.Clock, log: cfg.Logger, auth: authn,
		services: newTable[serviceRec](), sandboxes: newTable[sandboxRec](), sessions: newTable[sessionRec](),
		insts: map[string]*instance{}, sessTimers: map[string]chan struct{}{},
		drainCh: make(chan struct{}), done: make(chan struct{}), recovered: make(chan struct{}),
		pageKey: pageTokenKey[:],
	}
	if cfg.RateLimit > 0 {
		s.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.monitor = health.NewMonitor(health.NewChecker(cfg.HealthTimeout), cfg.HealthInterval, cfg.HealthClock)
	if err := s.load(); err != nil {
		return nil, err
	}
	if err := s.loadIdem(); err != nil {
		return nil, err
	}
	if err := s.startRecovery(); err != nil {
		return nil, err
	}
	return s, nil
}

// load reads every stored object into memory.
func (s *Server) load() error {
	var maxRV uint64
	track := func(m *api.ObjectMeta) {
		if n := parseRV(m.ResourceVersion); n > maxRV {
			maxRV = n
		}
	}
	if err := loadTable(s.store, s.services, kindService, func(tenant string, r *serviceRec) {
		track(r.meta())
		s.auth.AddTenant(tenant)
	}); err != nil {
		return err
	}
	if err := loadTable(s.store, s.sandboxes, kindSandbox, func(_ string, r *sandboxRec) { track(r.meta()) }); err != nil {
		return err
	}
	if err := loadTable(s.store, s.sessions, kindSession, func(_ string, r *sessionRec) { track(r.meta()) }); err != nil {
		return err
	}
	s.rvSeq.Store(maxRV)
	return nil
}

// nextRV returns a new resourceVersion.
func (s *Server) nextRV() string { return fmt.Sprint(s.rvSeq.Add(1)) }

func (s *Server) now() time.Time { return s.clk.Now().UTC().Truncate(time.Millisecond) }

func (s *Server) deleteObj(kind, tenant, key string) error {
	if err := s.store.Delete(kind, tenant, key); err != nil {
		return fmt.Errorf("store delete: %w", err)
	}
	switch kind {
	case kindService:
		s.services.del(tenant, key)
	case kindSandbox:
		s.sandboxes.del(tenant, key)
	case kindSession:
		s.sessions.del(tenant, key)
	}
	s.watch.notify(objKey(kind, tenant, key))
	return nil
}

// lockObj takes the writer lock of one object.
func (s *Server) lockObj(kind, tenant, key string) func() {
	return s.locks.lock(objKey(kind, tenant, key))
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.routes() }

// Drain makes every new request fail with server.unavailable (Retry-After),
// wakes long-polls so they answer at once and cuts off requests whose body
// is still arriving. Requests already being served
// complete normally.
func (s *Server) Drain() {
	if s.draining.CompareAndSwap(false, true) {
		close(s.drainCh)
		s.bodies.cutAll()
		s.log.Info("draining: new requests get server.unavailable")
	}
}

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// WaitIdle blocks until no request is in flight or ctx ends.
func (s *Server) WaitIdle(ctx context.Context) error {
	ch := make(chan struct{})
	go func() { s.inflight.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the supervisor (runtime instances are stopped, but desired
// states are kept so the next start resumes them) and closes the store.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.Drain()
		close(s.done)
		// Recovery workers stop at their next object; wait for them so
		// none launches an instance after the runtime is closed.
		select {
		case <-s.recovered:
		case <-time.After(10 * time.Second):
			s.log.Warn("closing while recovery is still launching")
		}
		s.monitor.Close()
		s.sessMu.Lock()
		for k, c := range s.sessTimers {
			close(c)
			delete(s.sessTimers, k)
		}
		s.sessMu.Unlock()
		s.instMu.Lock()
		insts := s.insts
		s.insts = map[string]*instance{}
		s.instMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if c, ok := s.rt.(runtimes.Closer); ok {
			if cerr := c.Close(ctx); cerr != nil {
				s.log.Warn("close runtime", "err", cerr)
			}
		} else {
			var wg sync.WaitGroup
			for _, in := range insts {
				wg.Add(1)
				go func() { defer wg.Done(); _ = in.inst.Stop(ctx) }()
			}
			wg.Wait()
		}
		cancel()
		s.bgCancel()
		s.bgWG.Wait()
		err = s.store.Close()
		if errors.Is(err, store.ErrClosed) {
			err = nil
		}
	})
	return err
}

// closed reports whether Close has begun.
func (s *Server) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

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

// Tenants lists every tenant that exists, sorted.
func (s *Server) Tenants() []string { return s.auth.Tenants() }

// authenticate finds the credential of r (see auth.Authenticator).
func (s *Server) authenticate(r *http.Request) (auth.Principal, *apiError) {
	p, e := s.auth.Authenticate(r, requestID(r))
	if e != nil {
		return p, &apiError{code: e.Code, message: e.Message, details: e.Details}
	}
	return p, nil
}

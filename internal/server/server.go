package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtime"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
)

// Config configures a Server.
type Config struct {
	// Store persists objects; nil means a new in-memory store.
	Store Store
	// Runtime runs sandboxes; nil means a simulated runtime without delays.
	Runtime runtime.Runtime
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
	// HealthAfter waits between health checks; nil means time.After.
	HealthAfter func(time.Duration) <-chan time.Time
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
	store   Store
	rt      runtime.Runtime
	clk     clock.Clock
	log     *slog.Logger
	auth    *authenticator
	limiter *rateLimiter
	monitor *runtime.HealthMonitor

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
	inst  runtime.Instance
}

// New builds a server over cfg.Store, loads every stored object and resumes
// what was running before: it records in one commit that services and
// standalone sandboxes whose desired state is running are starting again,
// closes sessions whose target cannot survive the restart, and returns;
// the objects are started again in the background (see Recovered), so the
// server can answer at once. Open sessions get their expiry timers back.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		cfg.Store = NewMemStore()
	}
	if cfg.Runtime == nil {
		cfg.Runtime = runtime.NewSimulated(runtime.SimulatedOptions{})
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
	auth, err := newAuthenticator(cfg.Credentials, cfg.Tenants, cfg.TrustedIssuers, wif.Options{Now: cfg.Clock.Now}, cfg.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, store: cfg.Store, rt: cfg.Runtime, clk: cfg.Clock, log: cfg.Logger, auth: auth,
		services: newListTable(serviceAttrs), sandboxes: newListTable(sandboxAttrs), sessions: newListTable(sessionAttrs),
		insts: map[string]*instance{}, sessTimers: map[string]chan struct{}{},
		drainCh: make(chan struct{}), done: make(chan struct{}), recovered: make(chan struct{}),
		pageKey: pageTokenKey[:],
	}
	if cfg.RateLimit > 0 {
		s.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.monitor = runtime.NewHealthMonitor(runtime.NewHealthChecker(cfg.HealthTimeout), cfg.HealthInterval, cfg.HealthAfter, cfg.Clock.Now)
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
	track := func(rv string) {
		if n := parseRV(rv); n > maxRV {
			maxRV = n
		}
	}
	if err := s.store.Load(kindService, func(tenant, key string, data []byte) error {
		r := new(serviceRec)
		if err := json.Unmarshal(data, r); err != nil {
			return fmt.Errorf("load service %s/%s: %w", tenant, key, err)
		}
		track(r.rv())
		s.services.set(tenant, key, r)
		s.auth.addTenant(tenant)
		return nil
	}); err != nil {
		return err
	}
	if err := s.store.Load(kindSandbox, func(tenant, key string, data []byte) error {
		r := new(sandboxRec)
		if err := json.Unmarshal(data, r); err != nil {
			return fmt.Errorf("load sandbox %s/%s: %w", tenant, key, err)
		}
		track(r.rv())
		s.sandboxes.set(tenant, key, r)
		return nil
	}); err != nil {
		return err
	}
	if err := s.store.Load(kindSession, func(tenant, key string, data []byte) error {
		r := new(sessionRec)
		if err := json.Unmarshal(data, r); err != nil {
			return fmt.Errorf("load session %s/%s: %w", tenant, key, err)
		}
		track(r.rv())
		s.sessions.set(tenant, key, r)
		return nil
	}); err != nil {
		return err
	}
	s.rvSeq.Store(maxRV)
	return nil
}

// nextRV returns a new resourceVersion.
func (s *Server) nextRV() string { return fmt.Sprint(s.rvSeq.Add(1)) }

func (s *Server) now() time.Time { return s.clk.Now().UTC().Truncate(time.Millisecond) }

// putService persists r (caller holds the service's key lock) and publishes it.
func (s *Server) putService(r *serviceRec) error {
	m := &r.Service.Metadata
	m.ResourceVersion = s.nextRV()
	m.UpdatedAt = s.now()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.store.Put(kindService, m.TenantID, m.Name, b); err != nil {
		return fmt.Errorf("store service: %w", err)
	}
	s.services.set(m.TenantID, m.Name, r)
	s.watch.notify(objKey(kindService, m.TenantID, m.Name))
	return nil
}

func (s *Server) putSandbox(r *sandboxRec) error {
	m := &r.Sandbox.Metadata
	m.ResourceVersion = s.nextRV()
	m.UpdatedAt = s.now()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.store.Put(kindSandbox, m.TenantID, m.ID, b); err != nil {
		return fmt.Errorf("store sandbox: %w", err)
	}
	s.sandboxes.set(m.TenantID, m.ID, r)
	s.watch.notify(objKey(kindSandbox, m.TenantID, m.ID))
	return nil
}

func (s *Server) putSession(r *sessionRec) error {
	m := &r.Session.Metadata
	m.ResourceVersion = s.nextRV()
	m.UpdatedAt = s.now()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.store.Put(kindSession, m.TenantID, m.ID, b); err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	s.sessions.set(m.TenantID, m.ID, r)
	s.watch.notify(objKey(kindSession, m.TenantID, m.ID))
	return nil
}

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
		if c, ok := s.rt.(runtime.Closer); ok {
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
		if errors.Is(err, ErrStoreClosed) {
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

package domain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/health"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
)

// Config configures a Domain.
type Config struct {
	// Store persists objects; nil means a new in-memory store.
	Store store.Store
	// Runtime runs sandboxes; nil means a simulated runtime without delays.
	Runtime runtimes.Runtime
	// Clock drives timestamps and session expiry; nil means the real clock.
	Clock clock.Clock
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// HealthInterval is how often external services are health-checked
	// (default 10s); HealthTimeout bounds one check (default 5s).
	HealthInterval time.Duration
	HealthTimeout  time.Duration
	// HealthClock times the health checks; nil means the real clock.
	HealthClock clock.Clock
	// TenantSeen, when set, is called for the tenant of every stored
	// service when the domain loads (so those tenants exist).
	TenantSeen func(tenant string)
}

// Domain owns every object of the server: the in-memory records and their
// writer locks, long-poll watchers, the lifecycle state machines, the
// supervisor of runtime instances and health checks, session timers,
// idempotency records and recovery after a restart.
type Domain struct {
	store   store.Store
	rt      runtimes.Runtime
	clk     clock.Clock
	log     *slog.Logger
	monitor *health.Monitor

	services  *table[serviceRec]
	sandboxes *table[sandboxRec]
	sessions  *table[sessionRec]
	idem      *table[IdemRecord] // idempotency records (idempotency.go)
	idemSwept atomic.Int64       // when expired records were last dropped (Unix ms)
	locks     keyLocks
	watch     watchers
	rvSeq     atomic.Uint64

	instMu       sync.Mutex
	insts        map[string]*instance // objKey(kindSandbox,…) -> running instance
	epoch        atomic.Uint64
	healthEpochs sync.Map // objKey(kindService,…) -> uint64

	recovering sync.Map      // objKey -> struct{}: marked for recovery, not yet started again
	recovered  chan struct{} // closed when recovery has run (Recovered)

	sessMu     sync.Mutex
	sessTimers map[string]chan struct{} // objKey(kindSession,…) -> cancel

	done      chan struct{}
	bgCtx     context.Context
	bgCancel  context.CancelFunc
	bgWG      sync.WaitGroup
	closeOnce sync.Once
}

type instance struct {
	epoch uint64
	inst  runtimes.Instance
}

// New builds the domain over cfg.Store, loads every stored object and
// resumes what was running before: it records in one commit that services
// and standalone sandboxes whose desired state is running are starting
// again, closes sessions whose target cannot survive the restart, and
// returns; the objects are started again in the background (see
// Recovered). Open sessions get their expiry timers back.
func New(cfg Config) (*Domain, error) {
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
	s := &Domain{
		store: cfg.Store, rt: cfg.Runtime, clk: cfg.Clock, log: cfg.Logger,
		services: newListTable(serviceAttrs), sandboxes: newListTable(sandboxAttrs), sessions: newListTable(sessionAttrs),
		insts: map[string]*instance{}, sessTimers: map[string]chan struct{}{},
		done: make(chan struct{}), recovered: make(chan struct{}),
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.monitor = health.NewMonitor(health.NewChecker(cfg.HealthTimeout), cfg.HealthInterval, cfg.HealthClock)
	if err := s.load(cfg.TenantSeen); err != nil {
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
func (s *Domain) load(tenantSeen func(string)) error {
	var maxRV uint64
	track := func(m *api.ObjectMeta) {
		if n := parseRV(m.ResourceVersion); n > maxRV {
			maxRV = n
		}
	}
	if err := loadTable(s.store, s.services, kindService, func(tenant string, r *serviceRec) {
		track(r.meta())
		if tenantSeen != nil {
			tenantSeen(tenant)
		}
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
func (s *Domain) nextRV() string { return fmt.Sprint(s.rvSeq.Add(1)) }

func (s *Domain) now() time.Time { return s.clk.Now().UTC().Truncate(time.Millisecond) }

// Now is the domain clock's time as stored in objects (UTC, milliseconds).
func (s *Domain) Now() time.Time { return s.now() }

func (s *Domain) deleteObj(kind, tenant, key string) error {
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
func (s *Domain) lockObj(kind, tenant, key string) func() {
	return s.locks.lock(objKey(kind, tenant, key))
}

// Close stops the supervisor (runtime instances are stopped, but desired
// states are kept so the next start resumes them) and closes the store.
func (s *Domain) Close() error {
	var err error
	s.closeOnce.Do(func() {
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
func (s *Domain) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

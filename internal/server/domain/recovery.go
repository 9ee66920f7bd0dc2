package domain

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
)

// recoveryWorkers bounds how many objects recovery brings back at once.
const recoveryWorkers = 16

// recoveryItem names one object recovery brings back.
type recoveryItem struct {
	kind, tenant, key string
}

// startRecovery resumes what the store says should run. After a restart no
// runtime instance exists. It works in two steps:
//
//  1. Before the server answers (in New), one durable commit records what
//     happens next: every service and standalone sandbox whose desired state
//     is running shows starting / pending ("starting again after a server
//     restart"), every other active sandbox or service is stopped, and
//     every open session whose target cannot be the same running instance
//     afterwards is closed (or expired when past expiresAt).
//  2. In the background, recoveryWorkers at a time, each marked object is
//     started again under its writer lock. A client call that drives the
//     object itself first (stop, restart, a rolling update, delete) takes
//     over: the object is dropped from the pending set and recovery leaves
//     it alone.
//
// Recovered is closed when step 2 has handed every object to the runtime.
func (s *Domain) startRecovery() error {
	now := s.now()
	// New calls this before anything is served, so the loaded records are
	// changed in place instead of cloned (the writer rule of doc.go applies
	// once the server answers).
	var (
		writes   []pendingWrite
		svcs     []*serviceRec
		sbxs     []*sandboxRec
		sess     []*sessionRec
		items    []recoveryItem
		pending  = map[string]bool{}
		rvErr    error
		stamp    = func(m *api.ObjectMeta) { m.ResourceVersion, m.UpdatedAt = s.nextRV(), now }
		addWrite = func(kind, tenant, key string, v any) {
			b, err := json.Marshal(v)
			if err != nil && rvErr == nil {
				rvErr = err
			}
			writes = append(writes, pendingWrite{kind: kind, tenant: tenant, key: key, data: b})
		}
	)
	// A crash between storing a service's new sandbox and storing the
	// service that names it leaves the sandbox unnamed: the service adopts
	// it, so recovery relaunches that sandbox instead of creating a second.
	adopted := s.adoptOrphanSandboxes()
	for _, tenant := range s.sandboxes.tenants() {
		for _, cur := range sortedRecs(s.sandboxes.each(tenant), func(r *sandboxRec) string { return r.Sandbox.Metadata.ID }) {
			if !sandboxActive(cur.Sandbox.Status.LifecycleState) {
				continue
			}
			id := cur.Sandbox.Metadata.ID
			next := cur
			next.Sandbox.Status.Endpoints = nil
			if next.Sandbox.Spec.Owner.Kind == api.OwnerKindStandalone && next.Desired == desiredRunning {
				next.Sandbox.Status.ExitCode = nil
				next.Sandbox.Status.StoppedAt = nil
				setSandboxStatus(&next.Sandbox, api.SandboxPending, "waiting to start again after a server restart", now)
				items = append(items, recoveryItem{kindSandbox, tenant, id})
				pending[objKey(kindSandbox, tenant, id)] = true
			} else {
				next.Sandbox.Status.StoppedAt = &now
				setSandboxStatus(&next.Sandbox, api.SandboxStopped, "stopped: the server restarted", now)
			}
			stamp(&next.Sandbox.Metadata)
			addWrite(kindSandbox, tenant, id, next)
			sbxs = append(sbxs, next)
		}
	}
	for _, tenant := range s.services.tenants() {
		for _, cur := range sortedRecs(s.services.each(tenant), func(r *serviceRec) string { return r.Service.Metadata.Name }) {
			st := cur.Service.Status.LifecycleState
			name := cur.Service.Metadata.Name
			if st == api.ServiceFailed || (st == api.ServiceStopped && cur.Desired != desiredRunning) {
				if adopted[objKey(kindService, tenant, name)] {
					stamp(&cur.Service.Metadata)
					addWrite(kindService, tenant, name, cur)
					svcs = append(svcs, cur)
				}
				continue
			}
			next := cur
			if next.Desired == desiredRunning {
				next.Service.Status.ObservedGeneration = next.Service.Metadata.Generation
				setServiceStatus(&next.Service.Status, api.ServiceStarting, api.ReadinessNotReady, api.HealthUnknown,
					"starting again after a server restart", nil, now)
				items = append(items, recoveryItem{kindService, tenant, name})
				pending[objKey(kindService, tenant, name)] = true
			} else {
				setServiceStatus(&next.Service.Status, api.ServiceStopped, api.ReadinessNotReady, api.HealthUnknown, "stopped: the server restarted", nil, now)
			}
			stamp(&next.Service.Metadata)
			addWrite(kindService, tenant, name, next)
			svcs = append(svcs, next)
		}
	}
	var keep []*sessionRec
	for _, tenant := range s.sessions.tenants() {
		for _, cur := range sortedRecs(s.sessions.each(tenant), func(r *sessionRec) string { return r.Session.Metadata.ID }) {
			if cur.Session.Status.LifecycleState != api.SessionOpen {
				continue
			}
			expired := !s.clk.Now().Before(cur.Session.Spec.ExpiresAt) // while the server was down
			reason := ""
			if !expired {
				if reason = s.sessionLost(tenant, cur, pending); reason == "" {
					keep = append(keep, cur)
					continue
				}
			}
			next := cur
			if expired {
				at := cur.Session.Spec.ExpiresAt
				next.Session.Status = api.SessionStatus{LifecycleState: api.SessionExpired, ClosedAt: &at, CloseReason: "expired at expiresAt"}
			} else {
				next.Session.Status = api.SessionStatus{LifecycleState: api.SessionClosed, ClosedAt: &now, CloseReason: reason}
			}
			stamp(&next.Session.Metadata)
			addWrite(kindSession, tenant, next.Session.Metadata.ID, next)
			sess = append(sess, next)
		}
	}
	if rvErr != nil {
		return fmt.Errorf("recover: %w", rvErr)
	}
	if err := s.putAll(writes); err != nil {
		return fmt.Errorf("recover: record the state after the restart: %w", err)
	}
	for _, r := range sbxs {
		s.sandboxes.set(r.Sandbox.Metadata.TenantID, r.Sandbox.Metadata.ID, r)
	}
	for _, r := range svcs {
		s.services.set(r.Service.Metadata.TenantID, r.Service.Metadata.Name, r)
	}
	for _, r := range sess {
		s.sessions.set(r.Session.Metadata.TenantID, r.Session.Metadata.ID, r)
		s.log.Info("session closed", "tenant", r.Session.Metadata.TenantID, "session", r.Session.Metadata.ID,
			"state", r.Session.Status.LifecycleState, "reason", r.Session.Status.CloseReason)
	}
	for k := range pending {
		s.recovering.Store(k, struct{}{})
	}
	for _, r := range keep {
		s.armSessionTimer(r.Session.Metadata.TenantID, r.Session.Metadata.ID, r.Session.Spec.ExpiresAt)
	}
	if len(items) == 0 {
		close(s.recovered)
		return nil
	}
	s.log.Info("recovering after a restart", "objects", len(items), "sessionsClosed", len(sess), "concurrency", recoveryWorkers)
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		s.runRecovery(items)
	}()
	return nil
}

// adoptOrphanSandboxes gives every sandbox-backed service that names no
// sandbox the service-owned sandbox that names it as owner (the one with
// the smallest id, if a crash left several), changing the loaded records in
// place (New calls it before anything is served). It returns the keys of
// the services it changed.
func (s *Domain) adoptOrphanSandboxes() map[string]bool {
	adopted := map[string]bool{}
	for _, tenant := range s.sandboxes.tenants() {
		for _, sb := range sortedRecs(s.sandboxes.each(tenant), func(r *sandboxRec) string { return r.Sandbox.Metadata.ID }) {
			owner := sb.Sandbox.Spec.Owner
			if owner.Kind != api.OwnerKindService {
				continue
			}
			svc := s.services.get(tenant, owner.ServiceName)
			if svc == nil || svc.Service.Status.SandboxID != "" || svc.Service.Spec.Backend.Kind != api.BackendKindSandbox {
				continue
			}
			svc.Service.Status.SandboxID = sb.Sandbox.Metadata.ID
			adopted[objKey(kindService, tenant, owner.ServiceName)] = true
			s.log.Warn("service adopted its sandbox after a restart", "tenant", tenant,
				"service", owner.ServiceName, "sandbox", sb.Sandbox.Metadata.ID)
		}
	}
	return adopted
}

// sessionLost explains why an open session's target cannot be what the
// session attached to once recovery has run, or returns "" when it can: a
// service without a runtime instance (built-in or external) that is
// brought back on the generation the session pinned.
func (s *Domain) sessionLost(tenant string, r *sessionRec, pending map[string]bool) string {
	snap := r.Session.Spec.TargetSnapshot
	t := r.Session.Spec.Target
	if t.Sandbox != nil {
		return fmt.Sprintf("target sandbox %s did not survive a server restart (its runtime instance ended)", t.Sandbox.ID)
	}
	if t.Service == nil {
		return "target did not survive a server restart"
	}
	name := t.Service.Name
	svc := s.services.get(tenant, name)
	switch {
	case svc == nil:
		return fmt.Sprintf("target service %q did not survive a server restart (it no longer exists)", name)
	case !pending[objKey(kindService, tenant, name)]:
		return fmt.Sprintf("target service %q did not survive a server restart (it is %s)", name, svc.Service.Status.LifecycleState)
	case svc.Service.Spec.Backend.Kind == api.BackendKindSandbox:
		return fmt.Sprintf("target service %q did not survive a server restart (its sandbox instance ended)", name)
	case svc.Service.Metadata.Generation != snap.Generation:
		return fmt.Sprintf("target service %q did not survive a server restart (it is now on generation %d, the session attached to %d)",
			name, svc.Service.Metadata.Generation, snap.Generation)
	}
	return ""
}

// runRecovery brings items back, recoveryWorkers at a time, in order.
func (s *Domain) runRecovery(items []recoveryItem) {
	defer close(s.recovered)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(recoveryWorkers, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !s.closed() {
				i := int(next.Add(1)) - 1
				if i >= len(items) {
					return
				}
				s.recoverOne(items[i])
			}
		}()
	}
	wg.Wait()
	if !s.closed() {
		s.log.Info("recovery finished", "objects", len(items), "duration", time.Since(start).Round(time.Millisecond).String())
	}
}

// recoverOne starts one marked object again, unless a client call has taken
// it over (or it is gone) meanwhile.
func (s *Domain) recoverOne(it recoveryItem) {
	unlock := s.lockObj(it.kind, it.tenant, it.key)
	defer unlock()
	if _, ok := s.recovering.LoadAndDelete(objKey(it.kind, it.tenant, it.key)); !ok {
		return
	}
	switch it.kind {
	case kindSandbox:
		cur := s.sandboxes.get(it.tenant, it.key)
		if cur == nil || cur.Desired != desiredRunning || cur.Sandbox.Status.LifecycleState != api.SandboxPending {
			return
		}
		if _, err := s.launchSandboxLocked(clone(cur)); err != nil {
			s.log.Error("recover sandbox", "tenant", it.tenant, "sandbox", it.key, "err", err)
		}
	case kindService:
		cur := s.services.get(it.tenant, it.key)
		if cur == nil || cur.Desired != desiredRunning {
			return
		}
		next, err := s.startServiceLocked(clone(cur))
		if err != nil {
			s.log.Error("recover service", "tenant", it.tenant, "service", it.key, "err", err)
		} else {
			s.log.Debug("recovered service", "tenant", it.tenant, "service", it.key, "state", next.Service.Status.LifecycleState)
		}
		if err != nil || next.Service.Status.LifecycleState == api.ServiceFailed {
			s.closeSessionsFor(it.tenant, "service", it.key, fmt.Sprintf("target service %q did not survive a server restart (it could not start again)", it.key))
		}
	}
}

// takeOver drops an object from recovery's pending set: the caller (holding
// its writer lock) drives it itself.
func (s *Domain) takeOver(kind, tenant, key string) {
	s.recovering.Delete(objKey(kind, tenant, key))
}

// Recovered is closed once recovery after the restart has brought back (or
// handed to client calls) every service and standalone sandbox that was
// running; objects still show starting or pending until then. Sandboxes
// report running later, when the runtime says so.
func (s *Domain) Recovered() <-chan struct{} { return s.recovered }

// pendingWrite is one Put of putAll.
type pendingWrite struct {
	kind, tenant, key string
	data              []byte
}

// putAll makes writes durable in one transaction.
func (s *Domain) putAll(writes []pendingWrite) error {
	if len(writes) == 0 {
		return nil
	}
	return s.store.Update(func(tx store.Tx) error {
		for _, w := range writes {
			if err := tx.Put(w.kind, w.tenant, w.key, w.data); err != nil {
				return err
			}
		}
		return nil
	})
}

func sortedRecs[T any](recs []*T, key func(*T) string) []*T {
	sort.Slice(recs, func(i, j int) bool { return key(recs[i]) < key(recs[j]) })
	return recs
}

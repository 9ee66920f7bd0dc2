package domain

import (
	"fmt"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Session TTL policy: requestedTtlMs must be within 1s..24h (request.invalid
// otherwise); 0 or absent means the 15-minute default. The server does not
// shorten a valid TTL: expiresAt = open time + requestedTtlMs.
func sessionTTL(requested int64) time.Duration {
	if requested == 0 {
		requested = api.DefaultSessionTTLMs
	}
	return time.Duration(requested) * time.Millisecond
}

// armSessionTimer expires the session at expiresAt on the server's clock,
// whether or not anyone reads it.
func (s *Domain) armSessionTimer(tenant, id string, expiresAt time.Time) {
	key := objKey(kindSession, tenant, id)
	cancel := make(chan struct{})
	s.sessMu.Lock()
	if s.closed() {
		s.sessMu.Unlock()
		return
	}
	if old := s.sessTimers[key]; old != nil {
		close(old)
	}
	s.sessTimers[key] = cancel
	s.sessMu.Unlock()
	t := s.clk.NewTimer(expiresAt.Sub(s.clk.Now()))
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		select {
		case <-t.C():
			s.expireSession(tenant, id)
		case <-cancel:
			t.Stop()
		case <-s.done:
			t.Stop()
		}
	}()
}

func (s *Domain) disarmSessionTimer(tenant, id string) {
	key := objKey(kindSession, tenant, id)
	s.sessMu.Lock()
	if c := s.sessTimers[key]; c != nil {
		close(c)
		delete(s.sessTimers, key)
	}
	s.sessMu.Unlock()
}

// expireSession marks an open session past its expiresAt as expired.
func (s *Domain) expireSession(tenant, id string) {
	if s.closed() {
		return
	}
	unlock := s.lockObj(kindSession, tenant, id)
	defer unlock()
	if err := s.expireSessionLocked(tenant, id); err != nil {
		s.log.Error("expire session", "tenant", tenant, "session", id, "err", err)
	}
}

func (s *Domain) expireSessionLocked(tenant, id string) error {
	cur := s.sessions.get(tenant, id)
	if cur == nil || cur.Session.Status.LifecycleState != api.SessionOpen || s.clk.Now().Before(cur.Session.Spec.ExpiresAt) {
		return nil
	}
	next := clone(cur)
	at := cur.Session.Spec.ExpiresAt
	next.Session.Status = api.SessionStatus{LifecycleState: api.SessionExpired, ClosedAt: &at, CloseReason: "expired at expiresAt"}
	s.disarmSessionTimer(tenant, id)
	if err := s.putSession(next); err != nil {
		return err
	}
	s.log.Info("session expired", "tenant", tenant, "session", id)
	return nil
}

// closeSessionLocked closes an open session (caller holds its lock).
func (s *Domain) closeSessionLocked(cur *sessionRec, reason string) (*sessionRec, error) {
	next := clone(cur)
	now := s.now()
	next.Session.Status = api.SessionStatus{LifecycleState: api.SessionClosed, ClosedAt: &now, CloseReason: reason}
	m := next.Session.Metadata
	s.disarmSessionTimer(m.TenantID, m.ID)
	if err := s.putSession(next); err != nil {
		return nil, err
	}
	s.log.Info("session closed", "tenant", m.TenantID, "session", m.ID, "reason", reason)
	return next, nil
}

// closeSessionsFor closes every open session whose target is the service
// name or sandbox id (kind "service" or "sandbox").
func (s *Domain) closeSessionsFor(tenant, kind, target, reason string) {
	for _, cur := range s.sessions.each(tenant) {
		if !sessionTargets(cur, kind, target) || cur.Session.Status.LifecycleState != api.SessionOpen {
			continue
		}
		id := cur.Session.Metadata.ID
		unlock := s.lockObj(kindSession, tenant, id)
		if c := s.sessions.get(tenant, id); c != nil && c.Session.Status.LifecycleState == api.SessionOpen {
			if _, err := s.closeSessionLocked(c, reason); err != nil {
				s.log.Error("close session", "tenant", tenant, "session", id, "err", err)
			}
		}
		unlock()
	}
}

func sessionTargets(r *sessionRec, kind, target string) bool {
	t := r.Session.Spec.Target
	switch kind {
	case "service":
		return t.Service != nil && t.Service.Name == target
	case "sandbox":
		return t.Sandbox != nil && t.Sandbox.ID == target
	}
	return false
}

// snapshotService pins a running service for a session, or explains why
// the session cannot open.
func snapshotService(r *serviceRec, name string) (api.TargetSnapshot, *Error) {
	if r == nil {
		return api.TargetSnapshot{}, &Error{Code: api.CodeNotFound, Message: fmt.Sprintf("target service %q not found", name),
			Details: &api.ErrorDetails{Kind: "service", Name: name}}
	}
	st := r.Service.Status.LifecycleState
	if st != api.ServiceRunning {
		return api.TargetSnapshot{}, conflict("service", name, st,
			"target service %q is %s; a session needs a running target: start it (and wait until ready) first", name, st)
	}
	b := r.Service.Spec.Backend
	snap := api.TargetSnapshot{Kind: "service", Name: name, Generation: r.Service.Metadata.Generation, BackendKind: b.Kind, Provider: b.Provider}
	if b.Sandbox != nil {
		snap.Runtime = b.Sandbox.Backend
	}
	return snap, nil
}

func snapshotSandbox(r *sandboxRec, id string) (api.TargetSnapshot, *Error) {
	if r == nil {
		return api.TargetSnapshot{}, &Error{Code: api.CodeNotFound, Message: fmt.Sprintf("target sandbox %q not found", id),
			Details: &api.ErrorDetails{Kind: "sandbox", Name: id}}
	}
	st := r.Sandbox.Status.LifecycleState
	if st != api.SandboxRunning {
		return api.TargetSnapshot{}, conflict("sandbox", id, st,
			"target sandbox %q is %s; a session needs a running target", id, st)
	}
	return api.TargetSnapshot{Kind: "sandbox", ID: id, Generation: r.Sandbox.Metadata.Generation,
		BackendKind: api.BackendKindSandbox, Runtime: r.Sandbox.Spec.Backend}, nil
}

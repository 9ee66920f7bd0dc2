package domain

import (
	"context"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// SessionStates are the states a session list may filter on.
var SessionStates = []string{api.SessionOpen, api.SessionClosed, api.SessionExpired}

// OpenSession validates req and opens a session under id (a fresh id when
// "") on a running target, pinning what it runs.
func (s *Domain) OpenSession(_ context.Context, tenant, id string, req api.OpenSessionRequest) (*api.Session, error) {
	if v := req.Validate(); len(v) > 0 {
		return nil, Invalid(v)
	}
	var snap api.TargetSnapshot
	var refused *Error
	var unlock func()
	if t := req.Target.Service; t != nil {
		unlock = s.lockObj(kindService, tenant, t.Name)
		snap, refused = snapshotService(s.services.get(tenant, t.Name), t.Name)
	} else {
		unlock = s.lockObj(kindSandbox, tenant, req.Target.Sandbox.ID)
		snap, refused = snapshotSandbox(s.sandboxes.get(tenant, req.Target.Sandbox.ID), req.Target.Sandbox.ID)
	}
	// The target's lock is held until the session is stored, so a target
	// stopping concurrently closes this session too.
	defer unlock()
	if refused != nil {
		return nil, refused
	}
	ttl := sessionTTL(req.RequestedTTLMs)
	ttlMs := req.RequestedTTLMs
	if ttlMs == 0 {
		ttlMs = api.DefaultSessionTTLMs
	}
	now := s.now()
	if id == "" {
		id = NewID("ses-")
	}
	rec := &sessionRec{Session: api.Session{
		Metadata: api.ObjectMeta{ID: id, TenantID: tenant, Generation: 1, CreatedAt: now, Labels: req.Labels},
		Spec: api.SessionSpec{Target: req.Target, Channels: req.Channels, RequestedTTLMs: ttlMs,
			ExpiresAt: now.Add(ttl), TargetSnapshot: snap},
		Status: api.SessionStatus{LifecycleState: api.SessionOpen},
	}}
	sUnlock := s.lockObj(kindSession, tenant, id)
	defer sUnlock()
	if err := s.putSession(rec); err != nil {
		return nil, err
	}
	s.armSessionTimer(tenant, id, rec.Session.Spec.ExpiresAt)
	s.log.Info("session opened", "tenant", tenant, "session", id, "targetKind", snap.Kind, "target", snap.Name+snap.ID)
	out := rec.Session
	return &out, nil
}

// ExpireSessionIfDue expires session id now if it is past expiresAt, so
// reads never show an open session past its expiry even before its timer
// has run.
func (s *Domain) ExpireSessionIfDue(tenant, id string) {
	cur := s.sessions.get(tenant, id)
	if cur != nil && cur.Session.Status.LifecycleState == api.SessionOpen && !s.clk.Now().Before(cur.Session.Spec.ExpiresAt) {
		s.expireSession(tenant, id)
	}
}

// GetSession returns a session.
func (s *Domain) GetSession(tenant, id string) (*api.Session, error) {
	cur := s.sessions.get(tenant, id)
	if cur == nil {
		return nil, notFound("session", tenant, id)
	}
	out := cur.Session
	return &out, nil
}

// ListSessions expires the tenant's sessions that are due and returns one
// page of its sessions in id order; Page.Next is the id to continue
// after, "" on the last page.
func (s *Domain) ListSessions(tenant string, q ListQuery) (Page, error) {
	for _, id := range s.sessions.keysIn(tenant, listFilter{state: api.SessionOpen}) {
		s.ExpireSessionIfDue(tenant, id)
	}
	return listPage(s.sessions, tenant, q, func(c *sessionRec) any { return c.Session })
}

// CloseSession closes an open session; reason defaults to "closed by
// client".
func (s *Domain) CloseSession(_ context.Context, tenant, id, reason string) (*api.Session, error) {
	if len(reason) > 1024 {
		return nil, InvalidField("reason", "must be at most 1024 characters")
	}
	s.ExpireSessionIfDue(tenant, id)
	unlock := s.lockObj(kindSession, tenant, id)
	defer unlock()
	cur := s.sessions.get(tenant, id)
	if cur == nil {
		return nil, notFound("session", tenant, id)
	}
	if st := cur.Session.Status.LifecycleState; st != api.SessionOpen {
		return nil, conflict("session", id, st, "session %s is already %s (%s); only an open session can be closed", id, st, cur.Session.Status.CloseReason)
	}
	if reason == "" {
		reason = "closed by client"
	}
	out, err := s.closeSessionLocked(cur, reason)
	if err != nil {
		return nil, err
	}
	sess := out.Session
	return &sess, nil
}

package server

import (
	"net/http"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

var sessionStates = []string{api.SessionOpen, api.SessionClosed, api.SessionExpired}

func sessionID(r *http.Request) (string, *apiError) {
	id := r.PathValue("id")
	if !api.ValidSessionID(id) {
		return "", invalidField("id", "must be a session id such as ses-0123abcd, got %q", id)
	}
	return id, nil
}

func (s *Server) openSession(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	var req api.OpenSessionRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	if v := req.Validate(); len(v) > 0 {
		return invalid(v)
	}
	var snap api.TargetSnapshot
	var e *apiError
	var unlock func()
	if t := req.Target.Service; t != nil {
		unlock = s.lockObj(kindService, tenant, t.Name)
		snap, e = snapshotService(s.services.get(tenant, t.Name), t.Name)
	} else {
		unlock = s.lockObj(kindSandbox, tenant, req.Target.Sandbox.ID)
		snap, e = snapshotSandbox(s.sandboxes.get(tenant, req.Target.Sandbox.ID), req.Target.Sandbox.ID)
	}
	// The target's lock is held until the session is stored, so a target
	// stopping concurrently closes this session too.
	defer unlock()
	if e != nil {
		return e
	}
	ttl := sessionTTL(req.RequestedTTLMs)
	ttlMs := req.RequestedTTLMs
	if ttlMs == 0 {
		ttlMs = api.DefaultSessionTTLMs
	}
	now := s.now()
	id := reservedID(r, "ses-")
	rec := &sessionRec{Session: api.Session{
		Metadata: api.ObjectMeta{ID: id, TenantID: tenant, Generation: 1, CreatedAt: now, Labels: req.Labels},
		Spec: api.SessionSpec{Target: req.Target, Channels: req.Channels, RequestedTTLMs: ttlMs,
			ExpiresAt: now.Add(ttl), TargetSnapshot: snap},
		Status: api.SessionStatus{LifecycleState: api.SessionOpen},
	}}
	sUnlock := s.lockObj(kindSession, tenant, id)
	defer sUnlock()
	if err := s.putSession(rec); err != nil {
		return internalErr(err)
	}
	s.armSessionTimer(tenant, id, rec.Session.Spec.ExpiresAt)
	s.log.Info("session opened", "tenant", tenant, "session", id, "targetKind", snap.Kind, "target", snap.Name+snap.ID)
	s.writeJSON(w, http.StatusCreated, rec.Session)
	return nil
}

// expireDue expires id now if it is past expiresAt, so reads never show an
// open session past its expiry even before its timer has run.
func (s *Server) expireDue(tenant, id string) {
	cur := s.sessions.get(tenant, id)
	if cur != nil && cur.Session.Status.LifecycleState == api.SessionOpen && !s.clk.Now().Before(cur.Session.Spec.ExpiresAt) {
		s.expireSession(tenant, id)
	}
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sessionID(r)
	if e != nil {
		return e
	}
	s.expireDue(tenant, id)
	if e := s.awaitChange(r, kindSession, tenant, id, func() string {
		if c := s.sessions.get(tenant, id); c != nil {
			return c.rv()
		}
		return ""
	}); e != nil {
		return e
	}
	cur := s.sessions.get(tenant, id)
	if cur == nil {
		return notFound("session", tenant, id)
	}
	s.writeJSON(w, http.StatusOK, cur.Session)
	return nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	p, e := s.parseList(r, kindSession, tenant, "state", sessionStates)
	if e != nil {
		return e
	}
	for _, id := range s.sessions.keysIn(tenant, listFilter{state: api.SessionOpen}) {
		s.expireDue(tenant, id)
	}
	ents := s.sessions.page(tenant, p.filter(), p.after, p.limit)
	writeList(s, w, ents, p.limit, func(c *sessionRec) any { return c.Session },
		func(last string) string { return s.encodePageToken(kindSession, tenant, p, last) })
	return nil
}

func (s *Server) closeSession(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sessionID(r)
	if e != nil {
		return e
	}
	var req api.CloseSessionRequest
	if e := decode(r, w, &req, true); e != nil {
		return e
	}
	if len(req.Reason) > 1024 {
		return invalidField("reason", "must be at most 1024 characters")
	}
	s.expireDue(tenant, id)
	unlock := s.lockObj(kindSession, tenant, id)
	defer unlock()
	cur := s.sessions.get(tenant, id)
	if cur == nil {
		return notFound("session", tenant, id)
	}
	if st := cur.Session.Status.LifecycleState; st != api.SessionOpen {
		return conflict("session", id, st, "session %s is already %s (%s); only an open session can be closed", id, st, cur.Session.Status.CloseReason)
	}
	reason := req.Reason
	if reason == "" {
		reason = "closed by client"
	}
	out, err := s.closeSessionLocked(cur, reason)
	if err != nil {
		return internalErr(err)
	}
	s.writeJSON(w, http.StatusOK, out.Session)
	return nil
}

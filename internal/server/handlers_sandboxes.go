package server

import (
	"maps"
	"net/http"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

var sandboxStates = []string{api.SandboxPending, api.SandboxStarting, api.SandboxRunning, api.SandboxStopping, api.SandboxStopped, api.SandboxFailed}

func sandboxID(r *http.Request) (string, *apiError) {
	id := r.PathValue("id")
	if !api.ValidSandboxID(id) {
		return "", invalidField("id", "must be a sandbox id such as sbx-0123abcd, got %q", id)
	}
	return id, nil
}

func sandboxActive(state string) bool {
	return state == api.SandboxPending || state == api.SandboxStarting || state == api.SandboxRunning || state == api.SandboxStopping
}

func (s *Server) createSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	var req api.CreateSandboxRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	if v := req.Validate(); len(v) > 0 {
		return invalid(v)
	}
	id := reservedID(r, "sbx-")
	unlock := s.lockObj(kindSandbox, tenant, id)
	defer unlock()
	now := s.now()
	rec := &sandboxRec{Desired: desiredRunning, Sandbox: api.Sandbox{
		Metadata: api.ObjectMeta{ID: id, TenantID: tenant, Generation: 1, CreatedAt: now, Labels: req.Labels},
		Spec:     api.SandboxObjectSpec{Profile: req.Profile, SandboxSpec: req.Spec},
	}}
	setSandboxStatus(&rec.Sandbox, api.SandboxPending, "accepted", now)
	if err := s.putSandbox(rec); err != nil {
		return internalErr(err)
	}
	out, err := s.launchSandboxLocked(clone(rec))
	if err != nil {
		return internalErr(err)
	}
	s.writeJSON(w, http.StatusCreated, out.Sandbox.Redacted())
	return nil
}

func (s *Server) getSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sandboxID(r)
	if e != nil {
		return e
	}
	if e := s.awaitChange(r, kindSandbox, tenant, id, func() string {
		if c := s.sandboxes.get(tenant, id); c != nil {
			return c.rv()
		}
		return ""
	}); e != nil {
		return e
	}
	cur := s.sandboxes.get(tenant, id)
	if cur == nil {
		return notFound("sandbox", tenant, id)
	}
	s.writeJSON(w, http.StatusOK, cur.Sandbox.Redacted())
	return nil
}

func (s *Server) listSandboxes(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	p, e := s.parseList(r, kindSandbox, tenant, "lifecycleState", sandboxStates)
	if e != nil {
		return e
	}
	ents := s.sandboxes.page(tenant, p.filter(), p.after, p.limit)
	writeList(s, w, ents, p.limit, func(c *sandboxRec) any { return c.Sandbox.Redacted() },
		func(last string) string { return s.encodePageToken(kindSandbox, tenant, p, last) })
	return nil
}

func (s *Server) updateSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sandboxID(r)
	if e != nil {
		return e
	}
	var req api.UpdateSandboxRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	if v := req.Validate(); len(v) > 0 {
		return invalid(v)
	}
	if req.IfMatchGeneration == nil {
		return preconditionRequired("sandbox", id)
	}
	unlock := s.lockObj(kindSandbox, tenant, id)
	defer unlock()
	cur := s.sandboxes.get(tenant, id)
	if cur == nil {
		return notFound("sandbox", tenant, id)
	}
	if g := cur.Sandbox.Metadata.Generation; g != *req.IfMatchGeneration {
		return preconditionFailed("sandbox", id, *req.IfMatchGeneration, g)
	}
	if req.Labels == nil || maps.Equal(*req.Labels, cur.Sandbox.Metadata.Labels) {
		s.writeJSON(w, http.StatusOK, cur.Sandbox.Redacted())
		return nil
	}
	next := clone(cur)
	next.Sandbox.Metadata.Generation++
	next.Sandbox.Metadata.Labels = *req.Labels
	if len(*req.Labels) == 0 {
		next.Sandbox.Metadata.Labels = nil
	}
	for i := range next.Sandbox.Status.Conditions {
		next.Sandbox.Status.Conditions[i].ObservedGeneration = next.Sandbox.Metadata.Generation
	}
	if err := s.putSandbox(next); err != nil {
		return internalErr(err)
	}
	s.writeJSON(w, http.StatusOK, next.Sandbox.Redacted())
	return nil
}

func ownedConflict(cur *sandboxRec, verb string) *apiError {
	id := cur.Sandbox.Metadata.ID
	svc := cur.Sandbox.Spec.Owner.ServiceName
	return conflict("sandbox", id, cur.Sandbox.Status.LifecycleState,
		"sandbox %s is owned by service %q and cannot be %s directly; stop or delete the service instead", id, svc, verb)
}

func (s *Server) deleteSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sandboxID(r)
	if e != nil {
		return e
	}
	gen, hasGen, e := parseIfMatch(r)
	if e != nil {
		return e
	}
	force, e := parseForce(r)
	if e != nil {
		return e
	}
	// The checks and the removal happen under one lock: a stale generation
	// (or any other refusal) changes nothing, and nothing can change the
	// sandbox between the generation check and the delete.
	unlock := s.lockObj(kindSandbox, tenant, id)
	cur := s.sandboxes.get(tenant, id)
	var err *apiError
	switch {
	case cur == nil:
		err = notFound("sandbox", tenant, id)
	case hasGen && cur.Sandbox.Metadata.Generation != gen:
		err = preconditionFailed("sandbox", id, gen, cur.Sandbox.Metadata.Generation)
	case cur.Sandbox.Spec.Owner.Kind == api.OwnerKindService && s.services.get(tenant, cur.Sandbox.Spec.Owner.ServiceName) != nil:
		err = ownedConflict(cur, "deleted")
	case sandboxActive(cur.Sandbox.Status.LifecycleState) && !force:
		st := cur.Sandbox.Status.LifecycleState
		err = conflict("sandbox", id, st, "sandbox %s is %s; stop it first or delete with force=true", id, st)
	}
	if err != nil {
		unlock()
		return err
	}
	derr := s.removeSandboxLocked(tenant, id)
	unlock()
	if derr != nil {
		return internalErr(derr)
	}
	s.closeSessionsFor(tenant, "sandbox", id, "target sandbox "+id+" deleted")
	s.log.Info("sandbox deleted", "tenant", tenant, "sandbox", id, "force", force)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) stopSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sandboxID(r)
	if e != nil {
		return e
	}
	var req api.SandboxActionRequest
	if e := decode(r, w, &req, true); e != nil {
		return e
	}
	if req.IfMatchGeneration != nil && *req.IfMatchGeneration < 1 {
		return invalidField("ifMatchGeneration", "must be a generation you read (1 or more)")
	}
	unlock := s.lockObj(kindSandbox, tenant, id)
	cur := s.sandboxes.get(tenant, id)
	if cur == nil {
		unlock()
		return notFound("sandbox", tenant, id)
	}
	// A stale generation stops nothing (checked before every other rule).
	if g := cur.Sandbox.Metadata.Generation; req.IfMatchGeneration != nil && g != *req.IfMatchGeneration {
		unlock()
		return preconditionFailed("sandbox", id, *req.IfMatchGeneration, g)
	}
	if cur.Sandbox.Spec.Owner.Kind == api.OwnerKindService {
		unlock()
		return ownedConflict(cur, "stopped")
	}
	out := cur
	st := cur.Sandbox.Status.LifecycleState
	if st != api.SandboxStopped && st != api.SandboxFailed && st != api.SandboxStopping {
		next := clone(cur)
		next.Desired = desiredStopped
		now := s.now()
		running := s.instance(tenant, id) != nil
		if running {
			setSandboxStatus(&next.Sandbox, api.SandboxStopping, "stopping", now)
		} else {
			next.Sandbox.Status.Endpoints = nil
			next.Sandbox.Status.StoppedAt = &now
			setSandboxStatus(&next.Sandbox, api.SandboxStopped, "stopped", now)
		}
		if err := s.putSandbox(next); err != nil {
			unlock()
			return internalErr(err)
		}
		out = next
		if running {
			s.stopInstance(tenant, id)
		}
	}
	unlock()
	if out.Sandbox.Status.LifecycleState == api.SandboxStopped {
		s.closeSessionsFor(tenant, "sandbox", id, "target sandbox "+id+" stopped")
	}
	s.writeJSON(w, http.StatusOK, out.Sandbox.Redacted())
	return nil
}

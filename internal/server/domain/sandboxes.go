package domain

import (
	"context"
	"maps"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// SandboxStates are the lifecycle states a sandbox list may filter on.
var SandboxStates = []string{api.SandboxPending, api.SandboxStarting, api.SandboxRunning, api.SandboxStopping, api.SandboxStopped, api.SandboxFailed}

func sandboxActive(state string) bool {
	return state == api.SandboxPending || state == api.SandboxStarting || state == api.SandboxRunning || state == api.SandboxStopping
}

func redactedSandbox(r *sandboxRec) *api.Sandbox {
	out := r.Sandbox.Redacted()
	return &out
}

// CreateSandbox validates req, stores a new standalone sandbox under id (a
// fresh id when "") and launches it.
func (s *Domain) CreateSandbox(_ context.Context, tenant, id string, req api.CreateSandboxRequest) (*api.Sandbox, error) {
	if v := req.Validate(); len(v) > 0 {
		return nil, Invalid(v)
	}
	if id == "" {
		id = NewID("sbx-")
	}
	unlock := s.lockObj(kindSandbox, tenant, id)
	defer unlock()
	now := s.now()
	rec := &sandboxRec{Desired: desiredRunning, Sandbox: api.Sandbox{
		Metadata: api.ObjectMeta{ID: id, TenantID: tenant, Generation: 1, CreatedAt: now, Labels: req.Labels},
		Spec:     api.SandboxObjectSpec{Profile: req.Profile, SandboxSpec: req.Spec},
	}}
	setSandboxStatus(&rec.Sandbox, api.SandboxPending, "accepted", now)
	if err := s.putSandbox(rec); err != nil {
		return nil, err
	}
	out, err := s.launchSandboxLocked(clone(rec))
	if err != nil {
		return nil, err
	}
	return redactedSandbox(out), nil
}

// GetSandbox returns a sandbox as the API shows it (secrets redacted).
func (s *Domain) GetSandbox(tenant, id string) (*api.Sandbox, error) {
	cur := s.sandboxes.get(tenant, id)
	if cur == nil {
		return nil, notFound("sandbox", tenant, id)
	}
	return redactedSandbox(cur), nil
}

// ListSandboxes returns one page of a tenant's sandboxes in id order;
// Page.Next is the id to continue after, "" on the last page.
func (s *Domain) ListSandboxes(tenant string, q ListQuery) (Page, error) {
	return listPage(s.sandboxes, tenant, q, func(c *sandboxRec) any { return c.Sandbox.Redacted() })
}

// UpdateSandbox changes a sandbox's labels at generation
// req.IfMatchGeneration (required).
func (s *Domain) UpdateSandbox(_ context.Context, tenant, id string, req api.UpdateSandboxRequest) (*api.Sandbox, error) {
	if v := req.Validate(); len(v) > 0 {
		return nil, Invalid(v)
	}
	if req.IfMatchGeneration == nil {
		return nil, preconditionRequired("sandbox", id)
	}
	unlock := s.lockObj(kindSandbox, tenant, id)
	defer unlock()
	cur := s.sandboxes.get(tenant, id)
	if cur == nil {
		return nil, notFound("sandbox", tenant, id)
	}
	if g := cur.Sandbox.Metadata.Generation; g != *req.IfMatchGeneration {
		return nil, preconditionFailed("sandbox", id, *req.IfMatchGeneration, g)
	}
	if req.Labels == nil || maps.Equal(*req.Labels, cur.Sandbox.Metadata.Labels) {
		return redactedSandbox(cur), nil
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
		return nil, err
	}
	return redactedSandbox(next), nil
}

func ownedConflict(cur *sandboxRec, verb string) *Error {
	id := cur.Sandbox.Metadata.ID
	svc := cur.Sandbox.Spec.Owner.ServiceName
	return conflict("sandbox", id, cur.Sandbox.Status.LifecycleState,
		"sandbox %s is owned by service %q and cannot be %s directly; stop or delete the service instead", id, svc, verb)
}

// DeleteSandbox deletes a standalone sandbox that is not active (any with
// force); ifMatchGen, when not nil, must be its generation. A sandbox
// owned by an existing service is op.conflict: it goes with its service.
func (s *Domain) DeleteSandbox(_ context.Context, tenant, id string, ifMatchGen *int64, force bool) error {
	// The checks and the removal happen under one lock: a stale generation
	// (or any other refusal) changes nothing, and nothing can change the
	// sandbox between the generation check and the delete.
	unlock := s.lockObj(kindSandbox, tenant, id)
	cur := s.sandboxes.get(tenant, id)
	var refused *Error
	switch {
	case cur == nil:
		refused = notFound("sandbox", tenant, id)
	case ifMatchGen != nil && cur.Sandbox.Metadata.Generation != *ifMatchGen:
		refused = preconditionFailed("sandbox", id, *ifMatchGen, cur.Sandbox.Metadata.Generation)
	case cur.Sandbox.Spec.Owner.Kind == api.OwnerKindService && s.services.get(tenant, cur.Sandbox.Spec.Owner.ServiceName) != nil:
		refused = ownedConflict(cur, "deleted")
	case sandboxActive(cur.Sandbox.Status.LifecycleState) && !force:
		st := cur.Sandbox.Status.LifecycleState
		refused = conflict("sandbox", id, st, "sandbox %s is %s; stop it first or delete with force=true", id, st)
	}
	if refused != nil {
		unlock()
		return refused
	}
	derr := s.removeSandboxLocked(tenant, id)
	unlock()
	if derr != nil {
		return derr
	}
	s.closeSessionsFor(tenant, "sandbox", id, "target sandbox "+id+" deleted")
	s.log.Info("sandbox deleted", "tenant", tenant, "sandbox", id, "force", force)
	return nil
}

// StopSandbox stops a standalone sandbox (a no-op when it is stopped,
// stopping or failed); ifMatchGen, when not nil, must be its generation.
func (s *Domain) StopSandbox(_ context.Context, tenant, id string, ifMatchGen *int64) (*api.Sandbox, error) {
	if ifMatchGen != nil && *ifMatchGen < 1 {
		return nil, InvalidField("ifMatchGeneration", "must be a generation you read (1 or more)")
	}
	unlock := s.lockObj(kindSandbox, tenant, id)
	cur := s.sandboxes.get(tenant, id)
	if cur == nil {
		unlock()
		return nil, notFound("sandbox", tenant, id)
	}
	// A stale generation stops nothing (checked before every other rule).
	if g := cur.Sandbox.Metadata.Generation; ifMatchGen != nil && g != *ifMatchGen {
		unlock()
		return nil, preconditionFailed("sandbox", id, *ifMatchGen, g)
	}
	if cur.Sandbox.Spec.Owner.Kind == api.OwnerKindService {
		unlock()
		return nil, ownedConflict(cur, "stopped")
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
			return nil, err
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
	return redactedSandbox(out), nil
}

package domain

import (
	"context"
	"encoding/json"
	"maps"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// ServiceStates are the lifecycle states a service list may filter on.
var ServiceStates = []string{api.ServiceStopped, api.ServiceStarting, api.ServiceRunning, api.ServiceStopping, api.ServiceFailed}

// CreateService validates req and stores a new, stopped service.
func (s *Domain) CreateService(_ context.Context, tenant string, req api.CreateServiceRequest) (*api.Service, error) {
	if v := req.Validate(); len(v) > 0 {
		return nil, Invalid(v)
	}
	unlock := s.lockObj(kindService, tenant, req.Name)
	defer unlock()
	if s.services.get(tenant, req.Name) != nil {
		return nil, &Error{Code: api.CodeAlreadyExists, Message: "service \"" + req.Name + "\" already exists in tenant \"" + tenant + "\"; choose another name or import it",
			Details: &api.ErrorDetails{Kind: "service", Name: req.Name}}
	}
	now := s.now()
	rec := &serviceRec{Desired: desiredStopped, Service: api.Service{
		Metadata: api.ObjectMeta{Name: req.Name, TenantID: tenant, Generation: 1, CreatedAt: now, Labels: req.Labels},
		Spec:     api.ServiceSpec{Backend: req.Backend},
		Status:   api.ServiceStatus{ObservedGeneration: 1},
	}}
	setServiceStatus(&rec.Service.Status, api.ServiceStopped, api.ReadinessNotReady, api.HealthUnknown, "created; start it to run", nil, now)
	if err := s.putService(rec); err != nil {
		return nil, err
	}
	s.log.Info("service created", "tenant", tenant, "service", req.Name, "backend", rec.Service.Spec.Backend.Redacted())
	return redactedService(rec), nil
}

func redactedService(r *serviceRec) *api.Service {
	out := r.Service.Redacted()
	return &out
}

// GetService returns a service as the API shows it (secrets redacted).
func (s *Domain) GetService(tenant, name string) (*api.Service, error) {
	cur := s.services.get(tenant, name)
	if cur == nil {
		return nil, notFound("service", tenant, name)
	}
	return redactedService(cur), nil
}

// ListServices returns one page of a tenant's services in name order (see
// ListQuery); Page.Next is the name to continue after, "" on the last page.
func (s *Domain) ListServices(tenant string, q ListQuery) (Page, error) {
	return listPage(s.services, tenant, q, func(c *serviceRec) any { return c.Service.Redacted() })
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// UpdateService changes a service's backend and labels at generation
// req.IfMatchGeneration (required); a running service rolls onto the new
// generation.
func (s *Domain) UpdateService(_ context.Context, tenant, name string, req api.UpdateServiceRequest) (*api.Service, error) {
	if v := req.Validate(name); len(v) > 0 {
		return nil, Invalid(v)
	}
	if req.IfMatchGeneration == nil {
		return nil, preconditionRequired("service", name)
	}
	unlock := s.lockObj(kindService, tenant, name)
	defer unlock()
	cur := s.services.get(tenant, name)
	if cur == nil {
		return nil, notFound("service", tenant, name)
	}
	if g := cur.Service.Metadata.Generation; g != *req.IfMatchGeneration {
		return nil, preconditionFailed("service", name, *req.IfMatchGeneration, g)
	}
	next := clone(cur)
	specChanged := req.Backend != nil && !jsonEqual(*req.Backend, cur.Service.Spec.Backend)
	labelsChanged := req.Labels != nil && !maps.Equal(*req.Labels, cur.Service.Metadata.Labels)
	if !specChanged && !labelsChanged {
		return redactedService(cur), nil
	}
	next.Service.Metadata.Generation++
	if labelsChanged {
		next.Service.Metadata.Labels = *req.Labels
		if len(*req.Labels) == 0 {
			next.Service.Metadata.Labels = nil
		}
	}
	state := cur.Service.Status.LifecycleState
	var err error
	if specChanged {
		next.Service.Spec.Backend = *req.Backend
	}
	roll := specChanged && cur.Desired == desiredRunning &&
		(state == api.ServiceRunning || state == api.ServiceStarting || state == api.ServiceFailed)
	switch {
	case roll:
		s.log.Info("rolling service onto new generation", "tenant", tenant, "service", name, "generation", next.Service.Metadata.Generation)
		next, err = s.stopServiceLocked(next, true)
	default:
		// Nothing to roll (stopped, or labels only): the status describes
		// the new generation as it is.
		if state != api.ServiceStopping {
			next.Service.Status.ObservedGeneration = next.Service.Metadata.Generation
			for i := range next.Service.Status.Conditions {
				next.Service.Status.Conditions[i].ObservedGeneration = next.Service.Metadata.Generation
			}
		}
		err = s.putService(next)
	}
	if err != nil {
		return nil, err
	}
	return redactedService(next), nil
}

// DeleteService deletes a stopped or failed service (any service with
// force) at generation ifMatchGen (required), with its sandbox, and closes
// its sessions.
func (s *Domain) DeleteService(_ context.Context, tenant, name string, ifMatchGen *int64, force bool) error {
	if ifMatchGen == nil {
		return preconditionRequired("service", name)
	}
	unlock := s.lockObj(kindService, tenant, name)
	defer unlock()
	cur := s.services.get(tenant, name)
	if cur == nil {
		return notFound("service", tenant, name)
	}
	if g := cur.Service.Metadata.Generation; g != *ifMatchGen {
		return preconditionFailed("service", name, *ifMatchGen, g)
	}
	st := cur.Service.Status.LifecycleState
	if st != api.ServiceStopped && st != api.ServiceFailed && !force {
		return conflict("service", name, st, "service %q is %s; stop it first or delete with force=true", name, st)
	}
	s.unwatchHealth(tenant, name)
	if id := cur.Service.Status.SandboxID; id != "" {
		if err := s.removeSandbox(tenant, id, "target sandbox "+id+" deleted with its service"); err != nil {
			return err
		}
	}
	if err := s.deleteObj(kindService, tenant, name); err != nil {
		return err
	}
	s.closeSessionsFor(tenant, "service", name, "target service \""+name+"\" deleted")
	s.log.Info("service deleted", "tenant", tenant, "service", name, "force", force)
	return nil
}

// removeSandbox stops (in the background) and deletes a sandbox, closing its sessions.
func (s *Domain) removeSandbox(tenant, id, reason string) error {
	unlock := s.lockObj(kindSandbox, tenant, id)
	err := s.removeSandboxLocked(tenant, id)
	unlock()
	if err != nil {
		return err
	}
	s.closeSessionsFor(tenant, "sandbox", id, reason)
	return nil
}

// removeSandboxLocked deletes a sandbox and stops its instance in the
// background; the caller holds the sandbox's lock and closes its sessions
// after releasing it.
func (s *Domain) removeSandboxLocked(tenant, id string) error {
	s.instMu.Lock()
	in := s.insts[objKey(kindSandbox, tenant, id)]
	delete(s.insts, objKey(kindSandbox, tenant, id))
	s.instMu.Unlock()
	err := s.deleteObj(kindSandbox, tenant, id)
	if in != nil {
		s.bgWG.Add(1)
		go func() {
			defer s.bgWG.Done()
			_ = in.inst.Stop(s.bgCtx)
		}()
	}
	return err
}

// StartService starts a service (a no-op when it is running or starting;
// a stopping service starts again once stopped). ifMatchGen, when not
// nil, must be the service's generation.
func (s *Domain) StartService(ctx context.Context, tenant, name string, ifMatchGen *int64) (*api.Service, error) {
	return s.serviceAction(ctx, "start", tenant, name, ifMatchGen)
}

// StopService stops a service (a no-op when it is stopped).
func (s *Domain) StopService(ctx context.Context, tenant, name string, ifMatchGen *int64) (*api.Service, error) {
	return s.serviceAction(ctx, "stop", tenant, name, ifMatchGen)
}

// RestartService stops a service and starts it again (starts a stopped
// one).
func (s *Domain) RestartService(ctx context.Context, tenant, name string, ifMatchGen *int64) (*api.Service, error) {
	return s.serviceAction(ctx, "restart", tenant, name, ifMatchGen)
}

// serviceAction is the start/stop/restart state machine.
func (s *Domain) serviceAction(_ context.Context, verb, tenant, name string, ifMatchGen *int64) (*api.Service, error) {
	if ifMatchGen != nil && *ifMatchGen < 1 {
		return nil, InvalidField("ifMatchGeneration", "must be a generation you read (1 or more)")
	}
	unlock := s.lockObj(kindService, tenant, name)
	defer unlock()
	cur := s.services.get(tenant, name)
	if cur == nil {
		return nil, notFound("service", tenant, name)
	}
	if g := cur.Service.Metadata.Generation; ifMatchGen != nil && g != *ifMatchGen {
		return nil, preconditionFailed("service", name, *ifMatchGen, g)
	}
	st := cur.Service.Status.LifecycleState
	next := clone(cur)
	var err error
	switch verb {
	case "start":
		switch st {
		case api.ServiceRunning, api.ServiceStarting:
			next = cur // no-op
		case api.ServiceStopping:
			next.Desired = desiredRunning // starts again once stopped
			err = s.putService(next)
		default:
			next, err = s.startServiceLocked(next)
		}
	case "stop":
		switch st {
		case api.ServiceStopped:
			next = cur // no-op
		case api.ServiceStopping:
			if cur.Desired != desiredStopped {
				next.Desired = desiredStopped
				err = s.putService(next)
			} else {
				next = cur
			}
		default:
			next, err = s.stopServiceLocked(next, false)
		}
	case "restart":
		switch st {
		case api.ServiceStopped:
			next, err = s.startServiceLocked(next)
		case api.ServiceStopping:
			next.Desired = desiredRunning
			err = s.putService(next)
		default:
			next, err = s.stopServiceLocked(next, true)
		}
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("service "+verb, "tenant", tenant, "service", name, "state", next.Service.Status.LifecycleState)
	return redactedService(next), nil
}

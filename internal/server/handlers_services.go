package server

import (
	"encoding/json"
	"maps"
	"net/http"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

var serviceStates = []string{api.ServiceStopped, api.ServiceStarting, api.ServiceRunning, api.ServiceStopping, api.ServiceFailed}

func serviceName(r *http.Request) (string, *apiError) {
	n := r.PathValue("name")
	if api.ValidateName(n) != nil {
		return "", invalidField("name", "%s", api.NameRule)
	}
	return n, nil
}

func (s *Server) createService(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	var req api.CreateServiceRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	if v := req.Validate(); len(v) > 0 {
		return invalid(v)
	}
	unlock := s.lockObj(kindService, tenant, req.Name)
	defer unlock()
	if s.services.get(tenant, req.Name) != nil {
		return &apiError{code: api.CodeAlreadyExists, message: "service \"" + req.Name + "\" already exists in tenant \"" + tenant + "\"; choose another name or import it",
			details: &api.ErrorDetails{Kind: "service", Name: req.Name}}
	}
	now := s.now()
	rec := &serviceRec{Desired: desiredStopped, Service: api.Service{
		Metadata: api.ObjectMeta{Name: req.Name, TenantID: tenant, Generation: 1, CreatedAt: now, Labels: req.Labels},
		Spec:     api.ServiceSpec{Backend: req.Backend},
		Status:   api.ServiceStatus{ObservedGeneration: 1},
	}}
	setServiceStatus(&rec.Service.Status, api.ServiceStopped, api.ReadinessNotReady, api.HealthUnknown, "created; start it to run", nil, now)
	if err := s.putService(rec); err != nil {
		return internalErr(err)
	}
	s.log.Info("service created", "tenant", tenant, "service", req.Name, "backend", rec.Service.Spec.Backend.Redacted())
	s.writeJSON(w, http.StatusCreated, rec.Service.Redacted())
	return nil
}

func (s *Server) getService(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	name, e := serviceName(r)
	if e != nil {
		return e
	}
	if e := s.awaitChange(r, kindService, tenant, name, func() string {
		if c := s.services.get(tenant, name); c != nil {
			return c.rv()
		}
		return ""
	}); e != nil {
		return e
	}
	cur := s.services.get(tenant, name)
	if cur == nil {
		return notFound("service", tenant, name)
	}
	s.writeJSON(w, http.StatusOK, cur.Service.Redacted())
	return nil
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	p, e := s.parseList(r, kindService, tenant, "lifecycleState", serviceStates)
	if e != nil {
		return e
	}
	ents := s.services.page(tenant, p.filter(), p.after, p.limit)
	writeList(s, w, ents, p.limit, func(c *serviceRec) any { return c.Service.Redacted() },
		func(last string) string { return s.encodePageToken(kindService, tenant, p, last) })
	return nil
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func (s *Server) updateService(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	name, e := serviceName(r)
	if e != nil {
		return e
	}
	var req api.UpdateServiceRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	if v := req.Validate(name); len(v) > 0 {
		return invalid(v)
	}
	if req.IfMatchGeneration == nil {
		return preconditionRequired("service", name)
	}
	unlock := s.lockObj(kindService, tenant, name)
	defer unlock()
	cur := s.services.get(tenant, name)
	if cur == nil {
		return notFound("service", tenant, name)
	}
	if g := cur.Service.Metadata.Generation; g != *req.IfMatchGeneration {
		return preconditionFailed("service", name, *req.IfMatchGeneration, g)
	}
	next := clone(cur)
	specChanged := req.Backend != nil && !jsonEqual(*req.Backend, cur.Service.Spec.Backend)
	labelsChanged := req.Labels != nil && !maps.Equal(*req.Labels, cur.Service.Metadata.Labels)
	if !specChanged && !labelsChanged {
		s.writeJSON(w, http.StatusOK, cur.Service.Redacted())
		return nil
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
		return internalErr(err)
	}
	s.writeJSON(w, http.StatusOK, next.Service.Redacted())
	return nil
}

func (s *Server) deleteService(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	name, e := serviceName(r)
	if e != nil {
		return e
	}
	gen, ok, e := parseIfMatch(r)
	if e != nil {
		return e
	}
	force, e := parseForce(r)
	if e != nil {
		return e
	}
	if !ok {
		return preconditionRequired("service", name)
	}
	unlock := s.lockObj(kindService, tenant, name)
	defer unlock()
	cur := s.services.get(tenant, name)
	if cur == nil {
		return notFound("service", tenant, name)
	}
	if g := cur.Service.Metadata.Generation; g != gen {
		return preconditionFailed("service", name, gen, g)
	}
	st := cur.Service.Status.LifecycleState
	if st != api.ServiceStopped && st != api.ServiceFailed && !force {
		return conflict("service", name, st, "service %q is %s; stop it first or delete with force=true", name, st)
	}
	s.unwatchHealth(tenant, name)
	if id := cur.Service.Status.SandboxID; id != "" {
		if err := s.removeSandbox(tenant, id, "target sandbox "+id+" deleted with its service"); err != nil {
			return internalErr(err)
		}
	}
	if err := s.deleteObj(kindService, tenant, name); err != nil {
		return internalErr(err)
	}
	s.closeSessionsFor(tenant, "service", name, "target service \""+name+"\" deleted")
	s.log.Info("service deleted", "tenant", tenant, "service", name, "force", force)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeSandbox stops (in the background) and deletes a sandbox, closing its sessions.
func (s *Server) removeSandbox(tenant, id, reason string) error {
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
func (s *Server) removeSandboxLocked(tenant, id string) error {
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

func (s *Server) serviceAction(verb string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
		name, e := serviceName(r)
		if e != nil {
			return e
		}
		var req api.ServiceActionRequest
		if e := decode(r, w, &req, true); e != nil {
			return e
		}
		if req.IfMatchGeneration != nil && *req.IfMatchGeneration < 1 {
			return invalidField("ifMatchGeneration", "must be a generation you read (1 or more)")
		}
		unlock := s.lockObj(kindService, tenant, name)
		defer unlock()
		cur := s.services.get(tenant, name)
		if cur == nil {
			return notFound("service", tenant, name)
		}
		if g := cur.Service.Metadata.Generation; req.IfMatchGeneration != nil && g != *req.IfMatchGeneration {
			return preconditionFailed("service", name, *req.IfMatchGeneration, g)
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
			return internalErr(err)
		}
		s.log.Info("service "+verb, "tenant", tenant, "service", name, "state", next.Service.Status.LifecycleState)
		s.writeJSON(w, http.StatusOK, next.Service.Redacted())
		return nil
	}
}

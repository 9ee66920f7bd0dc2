package domain

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/health"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes"
)

// Lock order: service → sandbox → session. Runtime instances are never
// stopped while a lock is held (Stop waits for the instance's report).

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewID returns a new object id: prefix and 12 random base-36 characters.
func NewID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = idAlphabet[int(c)%len(idAlphabet)]
	}
	return prefix + string(out)
}

func (s *Domain) instance(tenant, id string) *instance {
	s.instMu.Lock()
	defer s.instMu.Unlock()
	return s.insts[objKey(kindSandbox, tenant, id)]
}

// stopInstance stops the sandbox's runtime instance in the background; it
// reports false when none is running.
func (s *Domain) stopInstance(tenant, id string) bool {
	in := s.instance(tenant, id)
	if in == nil {
		return false
	}
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		ctx, cancel := context.WithTimeout(s.bgCtx, time.Minute)
		defer cancel()
		if err := in.inst.Stop(ctx); err != nil && s.bgCtx.Err() == nil {
			s.log.Warn("stop sandbox", "tenant", tenant, "sandbox", id, "err", err)
		}
	}()
	return true
}

// launchSandboxLocked starts r on the runtime (caller holds its lock) and
// returns the stored record (starting, or failed when the launch could not
// begin).
func (s *Domain) launchSandboxLocked(r *sandboxRec) (*sandboxRec, error) {
	now := s.now()
	s.takeOver(kindSandbox, r.Sandbox.Metadata.TenantID, r.Sandbox.Metadata.ID)
	r.Desired = desiredRunning
	r.Sandbox.Status.ExitCode = nil
	r.Sandbox.Status.StoppedAt = nil
	r.Sandbox.Status.Endpoints = nil
	setSandboxStatus(&r.Sandbox, api.SandboxStarting, "starting on the "+s.rt.Name()+" runtime", now)
	if err := s.putSandbox(r); err != nil {
		return nil, err
	}
	m := r.Sandbox.Metadata
	epoch := s.epoch.Add(1)
	q := make(chan runtimes.Event, 32)
	spec := runtimes.Spec{ID: m.ID, TenantID: m.TenantID, Profile: r.Sandbox.Spec.Profile, Sandbox: r.Sandbox.Spec.SandboxSpec}
	inst, err := s.rt.Start(s.bgCtx, spec, func(ev runtimes.Event) {
		select {
		case q <- ev:
		case <-s.done:
		}
	})
	if err != nil {
		next := clone(r)
		next.Sandbox.Status.StoppedAt = &now
		setSandboxStatus(&next.Sandbox, api.SandboxFailed, "the runtime could not launch the sandbox: "+err.Error(), now)
		if perr := s.putSandbox(next); perr != nil {
			return nil, perr
		}
		return next, nil
	}
	s.instMu.Lock()
	s.insts[objKey(kindSandbox, m.TenantID, m.ID)] = &instance{epoch: epoch, inst: inst}
	s.instMu.Unlock()
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		for {
			select {
			case ev := <-q:
				s.onSandboxEvent(m.TenantID, m.ID, epoch, ev)
				if ev.State != api.SandboxRunning {
					return
				}
			case <-s.done:
				return
			}
		}
	}()
	s.log.Info("sandbox starting", "tenant", m.TenantID, "sandbox", m.ID, "runtime", s.rt.Name(), "spec", r.Sandbox.Spec.SandboxSpec.Redacted())
	return r, nil
}

// onSandboxEvent applies a runtime report to the sandbox, then to the
// service that owns it and to sessions attached to it.
func (s *Domain) onSandboxEvent(tenant, id string, epoch uint64, ev runtimes.Event) {
	if s.closed() {
		return
	}
	unlock := s.lockObj(kindSandbox, tenant, id)
	in := s.instance(tenant, id)
	cur := s.sandboxes.get(tenant, id)
	if in == nil || in.epoch != epoch || cur == nil {
		unlock()
		return
	}
	final := ev.State != api.SandboxRunning
	if final {
		s.instMu.Lock()
		delete(s.insts, objKey(kindSandbox, tenant, id))
		s.instMu.Unlock()
	}
	next := clone(cur)
	now := s.now()
	st := &next.Sandbox.Status
	switch ev.State {
	case api.SandboxRunning:
		st.Endpoints = ev.Endpoints
		st.StartedAt = &now
	case api.SandboxFailed, api.SandboxStopped:
		st.Endpoints = nil
		st.StoppedAt = &now
		st.ExitCode = ev.ExitCode
		if ev.State == api.SandboxStopped {
			next.Desired = desiredStopped
		}
	default:
		unlock()
		return
	}
	setSandboxStatus(&next.Sandbox, ev.State, ev.Message, now)
	err := s.putSandbox(next)
	unlock()
	if err != nil {
		s.log.Error("record sandbox state", "tenant", tenant, "sandbox", id, "err", err)
		return
	}
	s.log.Info("sandbox state", "tenant", tenant, "sandbox", id, "state", ev.State, "message", ev.Message)
	if final {
		s.closeSessionsFor(tenant, "sandbox", id, fmt.Sprintf("target sandbox %s %s", id, ev.State))
	}
	if o := next.Sandbox.Spec.Owner; o.Kind == api.OwnerKindService {
		s.onOwnedSandbox(tenant, o.ServiceName, id)
	}
}

// onOwnedSandbox mirrors an owned sandbox's state onto its service.
func (s *Domain) onOwnedSandbox(tenant, name, sbxID string) {
	unlock := s.lockObj(kindService, tenant, name)
	defer unlock()
	cur := s.services.get(tenant, name)
	sb := s.sandboxes.get(tenant, sbxID)
	if cur == nil || sb == nil || cur.Service.Status.SandboxID != sbxID {
		return
	}
	next := clone(cur)
	now := s.now()
	st := &next.Service.Status
	switch sb.Sandbox.Status.LifecycleState {
	case api.SandboxRunning:
		if next.Desired != desiredRunning || st.LifecycleState != api.ServiceStarting {
			return
		}
		setServiceStatus(st, api.ServiceRunning, api.ReadinessReady, api.HealthHealthy,
			fmt.Sprintf("running in sandbox %s", sbxID), sb.Sandbox.Status.Endpoints, now)
	case api.SandboxFailed:
		setServiceStatus(st, api.ServiceFailed, api.ReadinessNotReady, api.HealthUnhealthy,
			fmt.Sprintf("sandbox %s failed: %s", sbxID, sb.Sandbox.Status.Message), nil, now)
	case api.SandboxStopped:
		if next.Desired == desiredRunning {
			// A restart or a roll onto a new generation: start again.
			if _, err := s.startServiceLocked(next); err != nil {
				s.log.Error("restart service", "tenant", tenant, "service", name, "err", err)
			}
			return
		}
		// A stopped service describes its current spec.
		st.ObservedGeneration = next.Service.Metadata.Generation
		setServiceStatus(st, api.ServiceStopped, api.ReadinessNotReady, api.HealthUnknown, "stopped", nil, now)
	default:
		return
	}
	if err := s.putService(next); err != nil {
		s.log.Error("record service state", "tenant", tenant, "service", name, "err", err)
		return
	}
	s.log.Info("service state", "tenant", tenant, "service", name, "state", st.LifecycleState)
	if st.LifecycleState != api.ServiceRunning {
		s.closeSessionsFor(tenant, "service", name, fmt.Sprintf("target service %q %s", name, st.LifecycleState))
	}
}

// startServiceLocked drives r (a clone the caller may modify; caller holds
// the service lock) toward running on its current generation.
func (s *Domain) startServiceLocked(r *serviceRec) (*serviceRec, error) {
	now := s.now()
	m := r.Service.Metadata
	s.takeOver(kindService, m.TenantID, m.Name)
	r.Desired = desiredRunning
	st := &r.Service.Status
	st.ObservedGeneration = r.Service.Metadata.Generation
	b := r.Service.Spec.Backend
	if b.Kind != api.BackendKindSandbox && st.SandboxID != "" {
		// The backend is no longer a sandbox: drop the one it owned.
		if err := s.removeSandbox(m.TenantID, st.SandboxID, "target sandbox "+st.SandboxID+" replaced"); err != nil {
			return nil, err
		}
		st.SandboxID = ""
	}
	switch b.Kind {
	case api.BackendKindBuiltIn:
		setServiceStatus(st, api.ServiceStarting, api.ReadinessNotReady, api.HealthUnknown, "starting built-in provider "+b.Provider, nil, now)
		if err := s.putService(r); err != nil {
			return nil, err
		}
		r = clone(r)
		eps := []api.Endpoint{{Name: "http", URL: fmt.Sprintf("https://%s.%s.%s.builtin.nimbus.local", m.Name, b.Provider, m.TenantID)}}
		setServiceStatus(&r.Service.Status, api.ServiceRunning, api.ReadinessReady, api.HealthHealthy, "built-in provider "+b.Provider+" is running", eps, s.now())
	case api.BackendKindExternal:
		setServiceStatus(st, api.ServiceRunning, api.ReadinessReady, api.HealthUnknown,
			"external service; waiting for the first health check", []api.Endpoint{{Name: "http", URL: redactURL(b.Endpoint.URL)}}, now)
		if err := s.putService(r); err != nil {
			return nil, err
		}
		s.watchHealth(r)
		return r, nil
	case api.BackendKindSandbox:
		sb, err := s.ensureOwnedSandbox(r)
		if err != nil {
			return nil, err
		}
		st.SandboxID = sb.Sandbox.Metadata.ID
		if sb.Sandbox.Status.LifecycleState == api.SandboxFailed {
			setServiceStatus(st, api.ServiceFailed, api.ReadinessNotReady, api.HealthUnhealthy,
				fmt.Sprintf("sandbox %s failed: %s", st.SandboxID, sb.Sandbox.Status.Message), nil, now)
		} else {
			setServiceStatus(st, api.ServiceStarting, api.ReadinessNotReady, api.HealthUnknown,
				fmt.Sprintf("starting sandbox %s", st.SandboxID), nil, now)
		}
	}
	if err := s.putService(r); err != nil {
		return nil, err
	}
	return r, nil
}

// ensureOwnedSandbox creates or refreshes the service's sandbox and launches
// it (caller holds the service lock).
func (s *Domain) ensureOwnedSandbox(svc *serviceRec) (*sandboxRec, error) {
	m := svc.Service.Metadata
	spec := *svc.Service.Spec.Backend.Sandbox
	id := svc.Service.Status.SandboxID
	var r *sandboxRec
	if id != "" {
		unlock := s.lockObj(kindSandbox, m.TenantID, id)
		defer unlock()
		if cur := s.sandboxes.get(m.TenantID, id); cur != nil {
			r = clone(cur)
			r.Sandbox.Spec.SandboxSpec = spec
			r.Sandbox.Metadata.Generation = m.Generation
		}
	}
	if r == nil {
		id = NewID("sbx-")
		unlock := s.lockObj(kindSandbox, m.TenantID, id)
		defer unlock()
		now := s.now()
		r = &sandboxRec{Sandbox: api.Sandbox{
			Metadata: api.ObjectMeta{ID: id, TenantID: m.TenantID, Generation: m.Generation, CreatedAt: now,
				Labels: map[string]string{"nimbus.dev/service": m.Name}},
			Spec: api.SandboxObjectSpec{Profile: api.ProfileWorker, SandboxSpec: spec},
		}}
		setSandboxStatus(&r.Sandbox, api.SandboxPending, "", now)
	}
	return s.launchSandboxLocked(r)
}

// watchHealth starts health checks of an external service.
func (s *Domain) watchHealth(r *serviceRec) {
	m := r.Service.Metadata
	b := r.Service.Spec.Backend
	key := objKey(kindService, m.TenantID, m.Name)
	epoch := s.epoch.Add(1)
	s.healthEpochs.Store(key, epoch)
	path := ""
	if b.Health != nil {
		path = b.Health.Path
	}
	s.monitor.Watch(key, b.Endpoint.URL, path, b.Auth, func(res health.Result) {
		s.onHealth(m.TenantID, m.Name, key, epoch, res)
	})
}

func (s *Domain) unwatchHealth(tenant, name string) {
	key := objKey(kindService, tenant, name)
	s.healthEpochs.Delete(key)
	s.monitor.Unwatch(key)
}

func (s *Domain) onHealth(tenant, name, key string, epoch uint64, res health.Result) {
	if s.closed() {
		return
	}
	unlock := s.lockObj(kindService, tenant, name)
	defer unlock()
	if e, ok := s.healthEpochs.Load(key); !ok || e.(uint64) != epoch {
		return
	}
	cur := s.services.get(tenant, name)
	if cur == nil || cur.Service.Status.LifecycleState != api.ServiceRunning {
		return
	}
	hl, msg := api.HealthUnhealthy, "health check failed: "+res.Detail
	if res.Healthy {
		hl, msg = api.HealthHealthy, "health check passed: "+res.Detail
	}
	st := cur.Service.Status
	if st.Health == hl && st.Message == msg {
		return // no change, no write
	}
	next := clone(cur)
	setServiceStatus(&next.Service.Status, api.ServiceRunning, api.ReadinessReady, hl, msg, st.Endpoints, s.now())
	if err := s.putService(next); err != nil {
		s.log.Error("record health", "tenant", tenant, "service", name, "err", err)
		return
	}
	if st.Health != hl {
		s.log.Info("service health", "tenant", tenant, "service", name, "health", hl)
	}
}

// stopServiceLocked drives r toward stopped (caller holds the service lock).
// When restart is true the service starts again once it has stopped.
func (s *Domain) stopServiceLocked(r *serviceRec, restart bool) (*serviceRec, error) {
	m := r.Service.Metadata
	s.takeOver(kindService, m.TenantID, m.Name)
	st := &r.Service.Status
	now := s.now()
	r.Desired = desiredStopped
	if restart {
		r.Desired = desiredRunning
	}
	if st.SandboxID != "" && s.instance(m.TenantID, st.SandboxID) != nil {
		// The sandbox reports stopped; onOwnedSandbox finishes the stop (or restarts).
		setServiceStatus(st, api.ServiceStopping, api.ReadinessNotReady, api.HealthUnknown, "stopping sandbox "+st.SandboxID, nil, now)
		if err := s.putService(r); err != nil {
			return nil, err
		}
		s.markSandboxStopping(m.TenantID, st.SandboxID)
		s.stopInstance(m.TenantID, st.SandboxID)
		s.closeSessionsFor(m.TenantID, "service", m.Name, fmt.Sprintf("target service %q stopping", m.Name))
		return r, nil
	}
	s.unwatchHealth(m.TenantID, m.Name)
	if st.LifecycleState == api.ServiceRunning || st.LifecycleState == api.ServiceStarting {
		setServiceStatus(st, api.ServiceStopping, api.ReadinessNotReady, api.HealthUnknown, "stopping", nil, now)
		if err := s.putService(r); err != nil {
			return nil, err
		}
		r = clone(r)
		st = &r.Service.Status
	}
	st.ObservedGeneration = r.Service.Metadata.Generation
	setServiceStatus(st, api.ServiceStopped, api.ReadinessNotReady, api.HealthUnknown, "stopped", nil, s.now())
	if err := s.putService(r); err != nil {
		return nil, err
	}
	s.closeSessionsFor(m.TenantID, "service", m.Name, fmt.Sprintf("target service %q stopped", m.Name))
	if restart {
		return s.startServiceLocked(clone(r))
	}
	return r, nil
}

func (s *Domain) markSandboxStopping(tenant, id string) {
	unlock := s.lockObj(kindSandbox, tenant, id)
	defer unlock()
	cur := s.sandboxes.get(tenant, id)
	if cur == nil {
		return
	}
	switch cur.Sandbox.Status.LifecycleState {
	case api.SandboxPending, api.SandboxStarting, api.SandboxRunning:
		next := clone(cur)
		next.Desired = desiredStopped
		setSandboxStatus(&next.Sandbox, api.SandboxStopping, "stopping", s.now())
		if err := s.putSandbox(next); err != nil {
			s.log.Error("record sandbox state", "tenant", tenant, "sandbox", id, "err", err)
		}
	}
}

// redactURL hides a password in a URL's user info.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

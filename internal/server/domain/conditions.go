package domain

import (
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

func findCond(conds []api.Condition, typ string) *api.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

func cond(prev []api.Condition, typ, status, reason, msg string, gen int64, now time.Time) api.Condition {
	c := api.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen, LastTransitionTime: now}
	if p := findCond(prev, typ); p != nil && p.Status == status {
		c.LastTransitionTime = p.LastTransitionTime
	}
	return c
}

func stateReason(state string) string {
	switch state {
	case api.ServiceStarting:
		return "Starting"
	case api.ServiceRunning:
		return "Running"
	case api.ServiceStopping:
		return "Stopping"
	case api.ServiceFailed:
		return "Failed"
	case api.SandboxPending:
		return "Pending"
	}
	return "Stopped"
}

// setServiceStatus sets the status fields and recomputes the conditions.
func setServiceStatus(st *api.ServiceStatus, state, readiness, health, msg string, endpoints []api.Endpoint, now time.Time) {
	st.LifecycleState, st.Readiness, st.Health, st.Message, st.Endpoints = state, readiness, health, msg, endpoints
	gen := st.ObservedGeneration
	prev := st.Conditions
	ready := api.ConditionFalse
	if readiness == api.ReadinessReady {
		ready = api.ConditionTrue
	}
	healthy, hReason := api.ConditionUnknown, "NotChecked"
	switch health {
	case api.HealthHealthy:
		healthy, hReason = api.ConditionTrue, "HealthCheckPassed"
	case api.HealthUnhealthy:
		healthy, hReason = api.ConditionFalse, "HealthCheckFailed"
	}
	progressing := api.ConditionFalse
	if state == api.ServiceStarting || state == api.ServiceStopping {
		progressing = api.ConditionTrue
	}
	st.Conditions = []api.Condition{
		cond(prev, api.ConditionReady, ready, stateReason(state), msg, gen, now),
		cond(prev, api.ConditionHealthy, healthy, hReason, "", gen, now),
		cond(prev, api.ConditionProgressing, progressing, stateReason(state), "", gen, now),
	}
}

// setSandboxStatus sets a sandbox's state and its Ready condition.
func setSandboxStatus(sb *api.Sandbox, state, msg string, now time.Time) {
	st := &sb.Status
	st.LifecycleState, st.Message = state, msg
	ready := api.ConditionFalse
	if state == api.SandboxRunning {
		ready = api.ConditionTrue
	}
	progressing := api.ConditionFalse
	if state == api.SandboxPending || state == api.SandboxStarting || state == api.SandboxStopping {
		progressing = api.ConditionTrue
	}
	prev := st.Conditions
	st.Conditions = []api.Condition{
		cond(prev, api.ConditionReady, ready, stateReason(state), msg, sb.Metadata.Generation, now),
		cond(prev, api.ConditionProgressing, progressing, stateReason(state), "", sb.Metadata.Generation, now),
	}
}

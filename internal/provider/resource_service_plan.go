package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/planmodifiers"
)

var _ resource.ResourceWithModifyPlan = (*ServiceResource)(nil)

// serviceChange is what an in-place update of a service will do, decided
// from the prior state and the plan. Unknown planned values count as
// changes.
type serviceChange struct {
	// patch: a PATCH is sent (labels or backend differ); it bumps the
	// generation.
	patch bool
	// rollsOrCycles: the workload is rolled (backend change), stopped,
	// started or restarted, or is between states: endpoints and sandbox_id
	// may change.
	rollsOrCycles bool
}

// planServiceChange reads what ModifyPlan and its tests need from the plan
// and the prior state.
func planServiceChange(ctx context.Context, plan, state planmodifiers.Getter, imported bool) (serviceChange, diag.Diagnostics) {
	var diags diag.Diagnostics
	get := func(g planmodifiers.Getter, p string, v any) {
		diags.Append(g.GetAttribute(ctx, path.Root(p), v)...)
	}
	var (
		pLabels, sLabels     types.Map
		pTriggers, sTriggers types.Map
		pRunning, sRunning   types.Bool
		sState               types.String
	)
	get(plan, "labels", &pLabels)
	get(state, "labels", &sLabels)
	get(plan, "restart_triggers", &pTriggers)
	get(state, "restart_triggers", &sTriggers)
	get(plan, "running", &pRunning)
	get(state, "running", &sRunning)
	get(state, "lifecycle_state", &sState)
	backendChanged := false
	for _, b := range []string{"sandbox", "built_in", "external"} {
		var p, s types.Object
		get(plan, b, &p)
		get(state, b, &s)
		if !p.Equal(s) {
			backendChanged = true
		}
	}
	if diags.HasError() {
		return serviceChange{patch: true, rollsOrCycles: true}, diags
	}
	// The first apply after an import records restart_triggers without a
	// restart (see Update).
	restart := !pTriggers.Equal(sTriggers) && (!imported || !sTriggers.IsNull())
	startStop := !pRunning.Equal(sRunning)
	settled := sState.ValueString() == api.ServiceRunning || sState.ValueString() == api.ServiceStopped
	return serviceChange{
		patch:         backendChanged || !pLabels.Equal(sLabels),
		rollsOrCycles: backendChanged || startStop || restart || !settled || sState.IsUnknown(),
	}, diags
}

// ModifyPlan keeps an update plan honest and minimal. The framework marks
// every computed attribute unknown when anything changes; this keeps from
// the prior state the values the change cannot alter:
//
//   - generation: only a PATCH (labels or backend) bumps it, so it is kept
//     for a change of running, wait_until, restart_triggers or timeouts;
//   - endpoints and sandbox_id: only a backend change (a roll), a stop, a
//     start or a restart can change them, and a service caught between
//     states (starting, stopping, failed);
//
// The status values a PATCH or a health check may rewrite (observed
// generation, lifecycle state, readiness, health, status message, conditions,
// updated_at) stay unknown. Update checks that the values kept here are what
// the server reports after the apply.
func (r *ServiceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() || req.Plan.Raw.Equal(req.State.Raw) {
		return // create, destroy or no change
	}
	imported, d := req.Private.GetKey(ctx, privateImported)
	resp.Diagnostics.Append(d...)
	ch, d := planServiceChange(ctx, req.Plan, req.State, len(imported) > 0)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	var keep []string
	if !ch.patch {
		keep = append(keep, "generation")
	}
	if !ch.rollsOrCycles {
		keep = append(keep, "endpoints", "sandbox_id")
	}
	resp.Diagnostics.Append(planmodifiers.KeepFromState(ctx, req.State, &resp.Plan, keep...)...)
}

// checkPlanned reports values planned as known (kept from the prior state by
// ModifyPlan) that the server no longer has: the service was changed outside
// Terraform while the apply ran. The state then records what the server
// reports, and the error explains why it differs from the plan.
func (m *serviceModel) checkPlanned(svc *api.Service, diags *diag.Diagnostics) {
	if svc == nil {
		return
	}
	var what []string
	if !m.Generation.IsUnknown() && m.Generation.ValueInt64() != svc.Metadata.Generation {
		what = append(what, fmt.Sprintf("generation %d (planned %d)", svc.Metadata.Generation, m.Generation.ValueInt64()))
	}
	if !m.SandboxID.IsUnknown() && m.SandboxID.ValueString() != svc.Status.SandboxID {
		what = append(what, fmt.Sprintf("sandbox_id %q (planned %q)", svc.Status.SandboxID, m.SandboxID.ValueString()))
	}
	if !m.Endpoints.IsUnknown() {
		eps, d := endpointsValue(svc.Status.Endpoints)
		diags.Append(d...)
		if !eps.Equal(m.Endpoints) {
			what = append(what, "endpoints")
		}
	}
	planmodifiers.ReportChangedDuringApply(diags, fmt.Sprintf("service %q", svc.Metadata.Name), what)
}

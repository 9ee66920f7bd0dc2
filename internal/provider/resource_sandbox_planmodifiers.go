package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/planmodifiers"
)

// defaultSandboxTimeout bounds create (until running) and delete (stop, wait,
// delete) when no timeouts block says otherwise.
const defaultSandboxTimeout = 10 * time.Minute

// privateGetter is the part of private state plan modifiers see.
type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

// adoptLaunchInput reports whether a configured launch input may be adopted
// into state without replacing the sandbox: only right after an import
// (state holds null because the API never returns the values), and only
// when the configured number of values matches what the server reports.
func adoptLaunchInput(ctx context.Context, p privateGetter, stateNull bool, configCount int, pick func(launchCounts) int) (bool, diag.Diagnostics) {
	if !stateNull || p == nil {
		return false, nil
	}
	imported, diags := p.GetKey(ctx, privateImported)
	if diags.HasError() || len(imported) == 0 {
		return false, diags
	}
	raw, d := p.GetKey(ctx, privateLaunchCounts)
	diags.Append(d...)
	if diags.HasError() || len(raw) == 0 {
		return false, diags
	}
	var lc launchCounts
	if err := json.Unmarshal(raw, &lc); err != nil {
		diags.AddError("Corrupt private state", "Could not decode the sandbox's recorded launch input counts: "+err.Error()+
			". Run `terraform apply -refresh-only` to refresh them.")
		return false, diags
	}
	return pick(lc) == configCount, diags
}

func launchInputReplaceList(ctx context.Context, req planmodifier.ListRequest, resp *listplanmodifier.RequiresReplaceIfFuncResponse) {
	count := 0
	if !req.ConfigValue.IsNull() && !req.ConfigValue.IsUnknown() {
		count = len(req.ConfigValue.Elements())
	}
	adopt, diags := adoptLaunchInput(ctx, req.Private, req.StateValue.IsNull(), count, func(lc launchCounts) int { return lc.Argv })
	resp.Diagnostics.Append(diags...)
	resp.RequiresReplace = !adopt
}

func launchInputReplaceMap(ctx context.Context, req planmodifier.MapRequest, resp *mapplanmodifier.RequiresReplaceIfFuncResponse) {
	count := 0
	if !req.ConfigValue.IsNull() && !req.ConfigValue.IsUnknown() {
		count = len(req.ConfigValue.Elements())
	}
	adopt, diags := adoptLaunchInput(ctx, req.Private, req.StateValue.IsNull(), count, func(lc launchCounts) int { return lc.Env })
	resp.Diagnostics.Append(diags...)
	resp.RequiresReplace = !adopt
}

var _ resource.ResourceWithModifyPlan = (*SandboxResource)(nil)

// ModifyPlan keeps an in-place update plan (labels, timeouts, launch inputs
// adopted after an import) honest and minimal:
//
//   - generation is kept from the prior state unless labels change (the
//     only update that bumps it);
//   - endpoints are kept while the sandbox is running; one still pending or
//     starting (for example after a server restart) is planned to running by
//     lifecycle_state, and its endpoints will change when it gets there;
//   - message and updated_at stay unknown: any status change rewrites them.
//
// Without it a sandbox found starting planned `running` while message,
// updated_at and endpoints kept their stale values, and the apply ended in
// "Provider produced inconsistent result after apply".
func (r *SandboxResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() || req.Plan.Raw.Equal(req.State.Raw) {
		return // create, destroy or no change
	}
	var pLabels, sLabels types.Map
	var sState types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("labels"), &pLabels)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("labels"), &sLabels)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("lifecycle_state"), &sState)...)
	if resp.Diagnostics.HasError() {
		return
	}
	unknown := []string{"message", "updated_at"}
	var keep []string
	if pLabels.Equal(sLabels) {
		keep = append(keep, "generation")
	} else {
		unknown = append(unknown, "generation")
	}
	if sState.ValueString() == api.SandboxRunning {
		keep = append(keep, "endpoints")
	} else {
		unknown = append(unknown, "endpoints")
	}
	resp.Diagnostics.Append(planmodifiers.KeepFromState(ctx, req.State, &resp.Plan, keep...)...)
	resp.Diagnostics.Append(planmodifiers.MarkUnknown(ctx, &resp.Plan, unknown...)...)
}

// checkPlanned reports values the plan kept from the prior state that the
// server no longer has after the apply (see ServiceResource's checkPlanned).
func (m *sandboxModel) checkPlanned(sb *api.Sandbox, diags *diag.Diagnostics) {
	var what []string
	if !m.Generation.IsUnknown() && m.Generation.ValueInt64() != sb.Metadata.Generation {
		what = append(what, fmt.Sprintf("generation %d (planned %d)", sb.Metadata.Generation, m.Generation.ValueInt64()))
	}
	if !m.Endpoints.IsUnknown() {
		eps, d := endpointsValue(sb.Status.Endpoints)
		diags.Append(d...)
		if !eps.Equal(m.Endpoints) {
			what = append(what, "endpoints")
		}
	}
	planmodifiers.ReportChangedDuringApply(diags, "sandbox "+sb.Metadata.ID, what)
}

package provider

import (
	"context"
	"fmt"

	actiontimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

var (
	_ action.Action              = (*SandboxStopAction)(nil)
	_ action.ActionWithConfigure = (*SandboxStopAction)(nil)
)

// NewSandboxStopAction returns the nimbus_sandbox_stop action.
func NewSandboxStopAction() action.Action {
	return &SandboxStopAction{actionBase{suffix: "_sandbox_stop"}}
}

// SandboxStopAction stops a standalone sandbox.
type SandboxStopAction struct {
	actionBase
}

// sandboxStopModel is the configuration of nimbus_sandbox_stop.
type sandboxStopModel struct {
	ID                types.String         `tfsdk:"id"`
	TenantID          types.String         `tfsdk:"tenant_id"`
	IfMatchGeneration types.Int64          `tfsdk:"if_match_generation"`
	WaitUntil         types.String         `tfsdk:"wait_until"`
	Timeouts          actiontimeouts.Value `tfsdk:"timeouts"`
}

func (a *SandboxStopAction) Schema(ctx context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Stops a standalone Nimbus sandbox (a no-op for one that is stopped) and waits until it is " +
			"stopped; sessions attached to it are closed by the server. A stopped sandbox cannot be started again. " +
			"Sandboxes owned by a service cannot be stopped directly: stop the service with `nimbus_service_stop`.\n\n" +
			actionFightsState + " A `nimbus_sandbox` found stopped is planned for replacement.\n\n" +
			"Run it from `action_trigger` in a resource's `lifecycle` block, or on its own with " +
			"`terraform apply -invoke=action.nimbus_sandbox_stop.NAME` (Terraform 1.14 or later).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Id of the sandbox (`sbx-…`), such as `nimbus_sandbox.worker.id`.",
				Validators:          []validator.String{validators.SandboxID()},
			},
			"tenant_id":           tenantAttr("sandbox"),
			"if_match_generation": ifMatchGenerationAttr("sandbox", "stopped"),
			"wait_until": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "`stopped` (default) to wait until the sandbox is stopped, or `none` to return at once. Bounded by the `timeouts` block.",
				Validators:          []validator.String{stringvalidator.OneOf(api.WaitStopped, waitNone)},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": actionTimeoutsBlock(ctx, fmt.Sprintf("How long the stop and its wait may take (`invoke`, default %s).",
				formatDuration(defaultSandboxTimeout))),
		},
	}
}

func (a *SandboxStopAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	var m sandboxStopModel
	ctx, cancel, c, report := beginInvoke(ctx, a.data, req, resp, &m, &m.Timeouts, defaultSandboxTimeout)
	defer cancel()
	if c == nil {
		return
	}
	id := m.ID.ValueString()
	ao := runStateOptions(report, m.IfMatchGeneration, "Sandbox "+id, "Stopping sandbox "+id,
		stringOr(m.WaitUntil, api.WaitStopped))
	sb, err := c.Sandboxes.Stop(ctx, id, ao, tenantCall(m.TenantID)...)
	if err != nil {
		addAPIError(&resp.Diagnostics, fmt.Sprintf("Could not stop sandbox %s", id), err)
		return
	}
	report(fmt.Sprintf("Sandbox %s stopped: %s", id, sb.Status.LifecycleState))
}

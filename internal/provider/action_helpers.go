package provider

// What the actions (action_*.go) share: the configure step, the
// timeouts-bounded invoke context, progress reporting and the common
// attributes.

import (
	"context"
	"time"

	actiontimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

// actionFightsState is the warning every stop and close action carries in
// its description.
const actionFightsState = "**It fights a managed resource's desired state:** the next plan for a resource that " +
	"manages the same object starts it again (or replaces it), so use this action for objects Terraform does not " +
	"manage, or for a deliberate one-off operation."

// invokeContext bounds one invocation by the action's `timeouts` block
// (`invoke`, default def): the provider's only timeout mechanism, as for
// resources. On a diagnostic the returned context is ctx itself.
func invokeContext(ctx context.Context, t actiontimeouts.Value, def time.Duration, diags *diag.Diagnostics) (context.Context, context.CancelFunc) {
	return operationContext(ctx, t.Invoke, def, diags)
}

// progressFunc returns a function that reports msg to Terraform while the
// action runs (shown as the action's progress in the CLI) and logs it.
func progressFunc(ctx context.Context, resp *action.InvokeResponse) func(msg string) {
	return func(msg string) {
		tflog.Info(ctx, msg)
		if resp.SendProgress != nil {
			resp.SendProgress(action.InvokeProgressEvent{Message: msg})
		}
	}
}

// actionTimeoutsBlock is the timeouts library's action block with a
// description (the library leaves the block itself undescribed).
func actionTimeoutsBlock(ctx context.Context, description string) schema.Block {
	b := actiontimeouts.BlockWithOpts(ctx, actiontimeouts.Opts{
		InvokeDescription: "How long the invocation may take, as a duration such as `30s` or `10m`.",
	})
	if nb, ok := b.(schema.SingleNestedBlock); ok {
		nb.MarkdownDescription = description
		return nb
	}
	return b
}

// tenantAttr is the optional tenant_id of every action.
func tenantAttr(kind string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: "Tenant of the " + kind + ". Defaults to the provider's tenant.",
		Validators:          []validator.String{validators.Name()},
	}
}

// ifMatchGenerationAttr is the optional generation check of every action
// that changes an object's run state; done is its participle ("stopped").
func ifMatchGenerationAttr(kind, done string) schema.Int64Attribute {
	return schema.Int64Attribute{
		Optional: true,
		MarkdownDescription: "Act only if the " + kind + "'s generation is still this one (for example `nimbus_" + kind +
			".x.generation`): the server checks it atomically and, when the " + kind + " has changed since, nothing is " +
			done + " and the action fails saying so. Without it the action is unconditional.",
		Validators: []validator.Int64{int64validator.AtLeast(1)},
	}
}

package provider

// What the actions (action_*.go) share: the type name and configure step,
// the start of an invocation (configuration, client, timeouts-bounded
// context), progress reporting, the options of a run-state change and the
// common attributes.

import (
	"context"
	"time"

	actiontimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

// actionBase is what every action embeds: its type name after the
// provider's ("_sandbox_stop") and the provider data Configure hands it.
type actionBase struct {
	suffix string
	data   *providerData
}

func (a *actionBase) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + a.suffix
}

func (a *actionBase) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

// beginInvoke starts an invocation: it reads the configuration into m (a
// model whose `timeouts` field is *t), gets the client and bounds ctx by
// the timeouts block (default def). It returns the bounded context, its
// cancel (always to be called), the client and the progress reporter; a nil
// client means resp has the error and the action stops.
func beginInvoke(ctx context.Context, data *providerData, req action.InvokeRequest, resp *action.InvokeResponse,
	m any, t *actiontimeouts.Value, def time.Duration) (context.Context, context.CancelFunc, *client.Client, func(string)) {
	nothing := func() {}
	resp.Diagnostics.Append(req.Config.Get(ctx, m)...)
	if resp.Diagnostics.HasError() {
		return ctx, nothing, nil, nil
	}
	c := clientFor(ctx, data, &resp.Diagnostics)
	if c == nil {
		return ctx, nothing, nil, nil
	}
	ctx, cancel := invokeContext(ctx, *t, def, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return ctx, cancel, nil, nil
	}
	return ctx, cancel, c, progressFunc(ctx, resp)
}

// runStateOptions are the client options of an action that changes an
// object's run state: the generation check, the object's status reported
// as progress under subject ("Sandbox sbx-1"), and the wait until until
// (none: no wait). It reports the start, doing ("Stopping sandbox sbx-1").
func runStateOptions(report func(string), gen types.Int64, subject, doing, until string) client.ActionOptions {
	ao := client.ActionOptions{
		IfMatchGeneration: gen.ValueInt64(),
		Progress:          func(status string) { report(subject + ": " + status) },
	}
	if until != waitNone {
		ao.WaitUntil = until
		report(doing + " and waiting until it is " + until)
	} else {
		report(doing)
	}
	return ao
}

// stringOr is the configured string v, def when it is not set (wait_until,
// a close reason).
func stringOr(v types.String, def string) string {
	if s := v.ValueString(); s != "" {
		return s
	}
	return def
}

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

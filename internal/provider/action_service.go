package provider

// The shared implementation of the service actions nimbus_service_restart,
// nimbus_service_start and nimbus_service_stop (one file each for what
// differs: name, description, call, wait targets).

import (
	"context"
	"fmt"
	"strings"
	"time"

	actiontimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

var (
	_ action.Action              = (*serviceAction)(nil)
	_ action.ActionWithConfigure = (*serviceAction)(nil)
)

// serviceAction is one of the service actions.
type serviceAction struct {
	actionBase
	// verb is the API action ("restart", "start", "stop"); gerund and done
	// word the progress messages ("Restarting", "restarted").
	verb, gerund, done string
	// waitTargets are the allowed wait_until values besides "none"; the first
	// is the default.
	waitTargets []string
	// defaultTimeout is the invoke timeout without a timeouts block.
	defaultTimeout time.Duration
	// description is the action's description (the common part follows).
	description string
	// call picks the client method.
	call func(c *client.Client) serviceCall
}

// serviceCall is the signature of the client's service actions.
type serviceCall = func(ctx context.Context, name string, ao client.ActionOptions, opts ...client.CallOption) (*api.Service, error)

// serviceActionModel is the configuration of a service action.
type serviceActionModel struct {
	Name              types.String         `tfsdk:"name"`
	TenantID          types.String         `tfsdk:"tenant_id"`
	IfMatchGeneration types.Int64          `tfsdk:"if_match_generation"`
	WaitUntil         types.String         `tfsdk:"wait_until"`
	Timeouts          actiontimeouts.Value `tfsdk:"timeouts"`
}

func (a *serviceAction) Schema(ctx context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	targets := append(append([]string{}, a.waitTargets...), waitNone)
	resp.Schema = schema.Schema{
		MarkdownDescription: a.description + "\n\nRun it from `action_trigger` in a resource's `lifecycle` block, or on its " +
			"own with `terraform apply -invoke=action.nimbus_service_" + a.verb + ".NAME` (Terraform 1.14 or later). " +
			"While it waits it reports the service's status as progress; a failure is reported with the server's error.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the service, such as `nimbus_service.web.name`.",
				Validators:          []validator.String{validators.Name()},
			},
			"tenant_id":           tenantAttr("service"),
			"if_match_generation": ifMatchGenerationAttr("service", a.done),
			"wait_until": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "What the action waits for after the " + a.verb + ": " + waitTargetsDoc(a.waitTargets) +
					", or `none` to return at once. Bounded by the `timeouts` block.",
				Validators: []validator.String{stringvalidator.OneOf(targets...)},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": actionTimeoutsBlock(ctx, fmt.Sprintf("How long the %s and its wait may take (`invoke`, default %s).",
				a.verb, formatDuration(a.defaultTimeout))),
		},
	}
}

func (a *serviceAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	var m serviceActionModel
	ctx, cancel, c, report := beginInvoke(ctx, a.data, req, resp, &m, &m.Timeouts, a.defaultTimeout)
	defer cancel()
	if c == nil {
		return
	}
	name := m.Name.ValueString()
	ao := runStateOptions(report, m.IfMatchGeneration, fmt.Sprintf("Service %q", name),
		fmt.Sprintf("%s service %q", a.gerund, name), stringOr(m.WaitUntil, a.waitTargets[0]))
	svc, err := a.call(c)(ctx, name, ao, tenantCall(m.TenantID)...)
	if err != nil {
		addAPIError(&resp.Diagnostics, fmt.Sprintf("Could not %s service %q", a.verb, name), err)
		return
	}
	report(fmt.Sprintf("Service %q %s: %s (generation %d)", name, a.done, svc.Status.LifecycleState, svc.Metadata.Generation))
}

// waitTargetsDoc renders the wait targets, the first one the default.
func waitTargetsDoc(targets []string) string {
	parts := make([]string, len(targets))
	for i, t := range targets {
		parts[i] = "`" + t + "`"
		switch t {
		case api.WaitReady:
			parts[i] += " (running, ready and on the current generation)"
		case api.WaitHealthy:
			parts[i] += " (ready and passing health checks)"
		}
		if i == 0 {
			parts[i] += ", the default"
		}
	}
	return strings.Join(parts, "; ")
}

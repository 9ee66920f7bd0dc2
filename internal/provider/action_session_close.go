package provider

import (
	"context"
	"fmt"
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
	_ action.Action              = (*SessionCloseAction)(nil)
	_ action.ActionWithConfigure = (*SessionCloseAction)(nil)
)

// defaultSessionCloseTimeout bounds a close without a timeouts block.
const defaultSessionCloseTimeout = 5 * time.Minute

// sessionCloseActionReason is the reason sent when the configuration gives none.
const sessionCloseActionReason = "closed by a Terraform action"

// NewSessionCloseAction returns the nimbus_session_close action.
func NewSessionCloseAction() action.Action {
	return &SessionCloseAction{actionBase{suffix: "_session_close"}}
}

// SessionCloseAction closes a session with a reason.
type SessionCloseAction struct {
	actionBase
}

// sessionCloseModel is the configuration of nimbus_session_close.
type sessionCloseModel struct {
	ID       types.String         `tfsdk:"id"`
	TenantID types.String         `tfsdk:"tenant_id"`
	Reason   types.String         `tfsdk:"reason"`
	Timeouts actiontimeouts.Value `tfsdk:"timeouts"`
}

func (a *SessionCloseAction) Schema(ctx context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Closes an open Nimbus session with a reason, which the `nimbus_session` data source shows as `close_reason` " +
			"afterwards. A session that is already closed or expired is left as it is (the action warns). Closing is " +
			"immediate, so there is nothing to wait for; the `timeouts` block bounds the request and its retries.\n\n" +
			actionFightsState + " A `nimbus_session` found closed is removed from state and the next apply opens a new one.\n\n" +
			"A session's spec never changes after it is opened (its generation stays 1), so unlike the other actions this " +
			"one has no `if_match_generation`: the id alone names exactly one session.\n\n" +
			"Run it from `action_trigger` in a resource's `lifecycle` block, or on its own with " +
			"`terraform apply -invoke=action.nimbus_session_close.NAME` (Terraform 1.14 or later).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Id of the session (`ses-…`), such as `nimbus_session.debug.id`.",
				Validators:          []validator.String{validators.SessionID()},
			},
			"tenant_id": tenantAttr("session"),
			"reason": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Why the session is closed, at most 1024 characters. Defaults to `" + sessionCloseActionReason + "`.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 1024)},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": actionTimeoutsBlock(ctx, fmt.Sprintf("How long the close may take (`invoke`, default %s).",
				formatDuration(defaultSessionCloseTimeout))),
		},
	}
}

func (a *SessionCloseAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	var m sessionCloseModel
	ctx, cancel, c, report := beginInvoke(ctx, a.data, req, resp, &m, &m.Timeouts, defaultSessionCloseTimeout)
	defer cancel()
	if c == nil {
		return
	}
	id := m.ID.ValueString()
	reason := stringOr(m.Reason, sessionCloseActionReason)
	opts := tenantCall(m.TenantID)
	report(fmt.Sprintf("Closing session %s", id))
	s, err := c.Sessions.Close(ctx, id, reason, opts...)
	if client.IsConflict(err) {
		// Only an open session can be closed: one that is closed or expired
		// already is what the action asks for.
		if cur, gerr := c.Sessions.Get(ctx, id, opts...); gerr == nil && cur.Status.LifecycleState != api.SessionOpen {
			resp.Diagnostics.AddWarning(fmt.Sprintf("Session %s was already %s", id, cur.Status.LifecycleState),
				fmt.Sprintf("Nothing was changed; the session keeps its close reason %q.", cur.Status.CloseReason))
			return
		}
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, fmt.Sprintf("Could not close session %s", id), err)
		return
	}
	report(fmt.Sprintf("Session %s %s: %s", id, s.Status.LifecycleState, s.Status.CloseReason))
}

package provider

import (
	"context"
	"iter"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

var (
	_ list.ListResource              = (*SessionListResource)(nil)
	_ list.ListResourceWithConfigure = (*SessionListResource)(nil)
)

// sessionListAll is the state filter value that lists sessions in every state.
const sessionListAll = "all"

// sessionListStates are the allowed values of the session list's state.
var sessionListStates = []string{api.SessionOpen, api.SessionClosed, api.SessionExpired, sessionListAll}

// NewSessionListResource returns the nimbus_session list resource.
func NewSessionListResource() list.ListResource {
	return &SessionListResource{listBase{suffix: "_session"}}
}

// SessionListResource lists sessions for `terraform query`.
type SessionListResource struct {
	listBase
}

// sessionListModel is the `config` block of `list "nimbus_session"`.
type sessionListModel struct {
	TenantID types.String `tfsdk:"tenant_id"`
	State    types.String `tfsdk:"state"`
}

func (r *SessionListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the sessions of a tenant for `terraform query`, by default only the open ones, reading the " +
			"listing one page at a time. Each result has the session's identity (`tenant_id`, `id`); with " +
			"`include_resource = true` it has the full `nimbus_session` object as a refresh after import would produce it " +
			"(sessions return every input, so nothing is redacted). Only open sessions can be imported: `nimbus_session` " +
			"drops a closed or expired session from state on refresh.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": listTenantAttr(),
			"state": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Keep only sessions in this state: `open` (default), `closed` or `expired`; `all` lists " +
					"sessions in every state.",
				Validators: []validator.String{stringvalidator.OneOf(sessionListStates...)},
			},
		},
	}
}

func (r *SessionListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	listObjects(ctx, r.data, req, stream, objectListing[sessionListModel, api.Session, sessionModel]{
		plural: "sessions",
		tenant: func(cfg *sessionListModel) types.String { return cfg.TenantID },
		items: func(ctx context.Context, c *client.Client, cfg *sessionListModel, limit int, opts ...client.CallOption) iter.Seq2[api.Session, error] {
			return c.Sessions.All(ctx, client.ListSessionsOptions{Limit: limit, State: sessionStateFilter(cfg.State)}, opts...)
		},
		result: func(s *api.Session) (string, objectIdentity) {
			return s.Metadata.ID + " (" + describeTarget(s.Spec.Target) + ", " + s.Status.LifecycleState + ")",
				objectIdentity{idAttr: "id", TenantID: s.Metadata.TenantID, ID: s.Metadata.ID}
		},
		fill: func(ctx context.Context, s *api.Session, m *sessionModel, diags *diag.Diagnostics) {
			m.fromListed(ctx, s, diags)
		},
	})
}

// sessionStateFilter is the API's state filter for the configured state:
// open when unset, none for "all".
func sessionStateFilter(state types.String) string {
	switch {
	case state.IsNull() || state.IsUnknown():
		return api.SessionOpen
	case state.ValueString() == sessionListAll:
		return ""
	}
	return state.ValueString()
}

// fromListed fills an all-null model from a listed session exactly as Read
// does after an import: tenant and inputs from the server, then the
// server-owned values.
func (m *sessionModel) fromListed(ctx context.Context, s *api.Session, diags *diag.Diagnostics) {
	m.TenantID = types.StringValue(s.Metadata.TenantID)
	m.readInputs(ctx, s, diags)
	m.setStatus(s, diags)
}

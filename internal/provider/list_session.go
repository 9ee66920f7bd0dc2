package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
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
func NewSessionListResource() list.ListResource { return &SessionListResource{} }

// SessionListResource lists sessions for `terraform query`.
type SessionListResource struct {
	data *providerData
}

// sessionListModel is the `config` block of `list "nimbus_session"`.
type sessionListModel struct {
	TenantID types.String `tfsdk:"tenant_id"`
	State    types.String `tfsdk:"state"`
}

func (r *SessionListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_session"
}

func (r *SessionListResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *SessionListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the sessions of a tenant for `terraform query`, by default only the open ones, reading the " +
			"listing one page at a time. Each result has the session's identity (`tenant_id`, `id`); with " +
			"`include_resource = true` it has the full `nimbus_session` object as a refresh after import would produce it " +
			"(sessions return every input, so nothing is redacted). Only open sessions can be imported: `nimbus_session` " +
			"drops a closed or expired session from state on refresh.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Tenant to list. Defaults to the provider's tenant.",
				Validators:          []validator.String{validators.Name()},
			},
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
	var cfg sessionListModel
	var diags diag.Diagnostics
	diags.Append(req.Config.Get(ctx, &cfg)...)
	if diags.HasError() {
		listError(stream, diags)
		return
	}
	c := clientFor(ctx, r.data, &diags)
	if c == nil {
		listError(stream, diags)
		return
	}
	tenant := resolveTenant(c, cfg.TenantID, &diags)
	if diags.HasError() {
		listError(stream, diags)
		return
	}
	opts := client.ListSessionsOptions{Limit: listPageLimit(req), State: sessionStateFilter(cfg.State)}
	items := c.Sessions.All(ctx, opts, client.InTenant(tenant))
	streamList(ctx, req, stream, fmt.Sprintf("the sessions of tenant %s", tenant), items, nil,
		func(ctx context.Context, s *api.Session, r *list.ListResult) {
			r.DisplayName = s.Metadata.ID + " (" + describeTarget(s.Spec.Target) + ", " + s.Status.LifecycleState + ")"
			id := objectIdentity{idAttr: "id", TenantID: s.Metadata.TenantID, ID: s.Metadata.ID}
			r.Diagnostics.Append(r.Identity.Set(ctx, id.model())...)
			if !req.IncludeResource {
				return
			}
			var m sessionModel
			r.Diagnostics.Append(nullResourceModel(ctx, r.Resource, &m)...)
			m.fromListed(ctx, s, &r.Diagnostics)
			r.Diagnostics.Append(r.Resource.Set(ctx, &m)...)
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
	setSessionState(m, s, diags)
}

package provider

import (
	"context"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

var _ datasource.DataSourceWithConfigure = &SessionsDataSource{}

// ----------------------------------------------------------- nimbus_sessions

// NewSessionsDataSource returns the nimbus_sessions data source.
func NewSessionsDataSource() datasource.DataSource {
	return &SessionsDataSource{dataSourceBase{suffix: "_sessions"}}
}

// SessionsDataSource lists sessions, following every page.
type SessionsDataSource struct{ dataSourceBase }

type sessionsModel struct {
	TenantID types.String     `tfsdk:"tenant_id"`
	State    types.String     `tfsdk:"state"`
	IDs      types.List       `tfsdk:"ids"`
	Sessions types.List       `tfsdk:"sessions"`
	Timeouts dstimeouts.Value `tfsdk:"timeouts"`
}

func (d *SessionsDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists Nimbus sessions, optionally only those in one state. Every page of the listing is read.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": dataSourceTenantAttr("Tenant to list."),
			"state": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Keep sessions in this state: `open`, `closed` or `expired`.",
				Validators:          []validator.String{stringvalidator.OneOf(api.SessionOpen, api.SessionClosed, api.SessionExpired)},
			},
			"ids": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Ids of the matching sessions, in the server's order.",
			},
			"sessions": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The matching sessions, in the server's order.",
				NestedObject:        schema.NestedAttributeObject{Attributes: sessionDataSchemaAttrs()},
			},
		},
		Blocks: map[string]schema.Block{"timeouts": dataSourceTimeoutsBlock(ctx, "every page of the listing")},
	}
}

func (d *SessionsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m sessionsModel
	ctx, cancel, c, tenant := beginRead(ctx, d.data, req, resp, &m, func() types.String { return m.TenantID })
	defer cancel()
	if c == nil {
		return
	}
	opts := client.ListSessionsOptions{Limit: listPageSize, State: m.State.ValueString()}
	var ok bool
	m.IDs, m.Sessions, ok = listObjectValues(ctx, c, &resp.Diagnostics, "Could not list sessions",
		c.Sessions.All(ctx, opts, client.InTenant(tenant)), func(s *api.Session) string { return s.Metadata.ID },
		sessionDataAttrTypes, sessionInfo)
	if !ok {
		return
	}
	m.TenantID = types.StringValue(tenant)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

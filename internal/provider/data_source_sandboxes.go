package provider

import (
	"context"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

var _ datasource.DataSourceWithConfigure = &SandboxesDataSource{}

// ---------------------------------------------------------- nimbus_sandboxes

// NewSandboxesDataSource returns the nimbus_sandboxes data source.
func NewSandboxesDataSource() datasource.DataSource {
	return &SandboxesDataSource{dataSourceBase{suffix: "_sandboxes"}}
}

// SandboxesDataSource lists sandboxes, following every page.
type SandboxesDataSource struct{ dataSourceBase }

type sandboxesModel struct {
	TenantID       types.String     `tfsdk:"tenant_id"`
	LabelKey       types.String     `tfsdk:"label_key"`
	LabelValue     types.String     `tfsdk:"label_value"`
	LifecycleState types.String     `tfsdk:"lifecycle_state"`
	IDs            types.List       `tfsdk:"ids"`
	Sandboxes      types.List       `tfsdk:"sandboxes"`
	Timeouts       dstimeouts.Value `tfsdk:"timeouts"`
}

func (d *SandboxesDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists Nimbus sandboxes (standalone and service-owned), optionally filtered by a label and by " +
			"lifecycle state. Every page of the listing is read.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": dataSourceTenantAttr("Tenant to list."),
			"label_key": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Keep sandboxes that have this label.",
			},
			"label_value": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "With `label_key`: keep sandboxes whose label has this value.",
				Validators:          []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("label_key"))},
			},
			"lifecycle_state": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Keep sandboxes in this state: `pending`, `starting`, `running`, `stopping`, `stopped` or `failed`.",
				Validators: []validator.String{stringvalidator.OneOf(api.SandboxPending, api.SandboxStarting, api.SandboxRunning,
					api.SandboxStopping, api.SandboxStopped, api.SandboxFailed)},
			},
			"ids": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Ids of the matching sandboxes, in the server's order.",
			},
			"sandboxes": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The matching sandboxes, in the server's order.",
				NestedObject:        schema.NestedAttributeObject{Attributes: sandboxDataSchemaAttrs()},
			},
		},
		Blocks: map[string]schema.Block{"timeouts": dataSourceTimeoutsBlock(ctx, "every page of the listing")},
	}
}

func (d *SandboxesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m sandboxesModel
	ctx, cancel, c, tenant := beginRead(ctx, d.data, req, resp, &m, func() types.String { return m.TenantID })
	defer cancel()
	if c == nil {
		return
	}
	opts := client.ListSandboxesOptions{
		Limit:          listPageSize,
		LabelKey:       m.LabelKey.ValueString(),
		LabelValue:     m.LabelValue.ValueString(),
		LifecycleState: m.LifecycleState.ValueString(),
	}
	var ok bool
	m.IDs, m.Sandboxes, ok = listObjectValues(ctx, c, &resp.Diagnostics, "Could not list sandboxes",
		c.Sandboxes.All(ctx, opts, client.InTenant(tenant)), func(sb *api.Sandbox) string { return sb.Metadata.ID },
		sandboxDataAttrTypes, sandboxInfo)
	if !ok {
		return
	}
	m.TenantID = types.StringValue(tenant)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

package provider

import (
	"context"
	"fmt"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

var (
	_ datasource.DataSource              = &ServicesDataSource{}
	_ datasource.DataSourceWithConfigure = &ServicesDataSource{}
)

// NewServicesDataSource returns the nimbus_services data source.
func NewServicesDataSource() datasource.DataSource {
	return &ServicesDataSource{dataSourceBase{suffix: "_services"}}
}

// ServicesDataSource lists services with optional filters.
type ServicesDataSource struct{ dataSourceBase }

type servicesModel struct {
	TenantID       types.String     `tfsdk:"tenant_id"`
	LabelKey       types.String     `tfsdk:"label_key"`
	LabelValue     types.String     `tfsdk:"label_value"`
	LifecycleState types.String     `tfsdk:"lifecycle_state"`
	Names          types.List       `tfsdk:"names"`
	Services       types.List       `tfsdk:"services"`
	Timeouts       dstimeouts.Value `tfsdk:"timeouts"`
}

func (d *ServicesDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	item := serviceInfoAttributes()
	item["name"] = schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the service."}
	item["tenant_id"] = schema.StringAttribute{Computed: true, MarkdownDescription: "Tenant of the service."}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the Nimbus services of a tenant, optionally filtered by a label and by lifecycle state. Every page of the listing is read.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": dataSourceTenantAttr("Tenant to list."),
			"label_key": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Keep only services with this label key (any value unless `label_value` is set)."},
			"label_value": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Keep only services whose `label_key` label has this value. Requires `label_key`.",
				Validators:          []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("label_key"))}},
			"lifecycle_state": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Keep only services in this lifecycle state: `stopped`, `starting`, `running`, `stopping` or `failed`.",
				Validators: []validator.String{stringvalidator.OneOf(api.ServiceStopped, api.ServiceStarting,
					api.ServiceRunning, api.ServiceStopping, api.ServiceFailed)}},
			"names": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Names of the matching services, in the server's stable listing order."},
			"services": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The matching services.",
				NestedObject: schema.NestedAttributeObject{Attributes: item}},
		},
		Blocks: map[string]schema.Block{"timeouts": dataSourceTimeoutsBlock(ctx, "every page of the listing")},
	}
}

func (d *ServicesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg servicesModel
	ctx, cancel, c, tenant := beginRead(ctx, d.data, req, resp, &cfg, func() types.String { return cfg.TenantID })
	defer cancel()
	if c == nil {
		return
	}
	opts := client.ListServicesOptions{
		Limit:          listPageSize,
		LabelKey:       cfg.LabelKey.ValueString(),
		LabelValue:     cfg.LabelValue.ValueString(),
		LifecycleState: cfg.LifecycleState.ValueString(),
	}
	// Thousands of services go into the state: each is converted to its
	// Terraform value as its page arrives, without the framework's
	// reflection, which cost about 30 KB per listed object (issue 10).
	var names, items []tftypes.Value
	for svc, err := range c.Services.All(ctx, opts, client.InTenant(tenant)) {
		if err != nil {
			addCallError(ctx, c, &resp.Diagnostics, fmt.Sprintf("Could not list the services of tenant %s", tenant), err)
			return
		}
		names = append(names, tftypes.NewValue(tftypes.String, svc.Metadata.Name))
		item, d := serviceInfo(&svc, &resp.Diagnostics).terraformValue(ctx)
		resp.Diagnostics.Append(d...)
		if resp.Diagnostics.HasError() {
			return
		}
		items = append(items, item)
	}
	cfg.TenantID = types.StringValue(tenant)
	cfg.Names = types.ListNull(types.StringType)
	cfg.Services = types.ListNull(types.ObjectType{AttrTypes: serviceInfoAttrTypes})
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	raw, err := withAttributes(resp.State.Raw, map[string]tftypes.Value{
		"names":    listOrNull(tftypes.String, names),
		"services": listOrNull(serviceInfoType(), items),
	})
	if err != nil {
		resp.Diagnostics.AddError("Could not build the nimbus_services data", "This is a bug in the Nimbus provider; please report it. "+err.Error())
		return
	}
	resp.State.Raw = raw
}

package provider

import (
	"context"
	"fmt"
	"sync"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

var (
	_ datasource.DataSource              = &ServiceDataSource{}
	_ datasource.DataSourceWithConfigure = &ServiceDataSource{}
)

// NewServiceDataSource returns the nimbus_service data source.
func NewServiceDataSource() datasource.DataSource {
	return &ServiceDataSource{dataSourceBase{suffix: "_service"}}
}

// ServiceDataSource reads one service by name.
type ServiceDataSource struct{ dataSourceBase }

// serviceInfoModel is one service as the data sources show it.
type serviceInfoModel struct {
	ID                 types.String      `tfsdk:"id"`
	Name               types.String      `tfsdk:"name"`
	TenantID           types.String      `tfsdk:"tenant_id"`
	Labels             types.Map         `tfsdk:"labels"`
	BackendKind        types.String      `tfsdk:"backend_kind"`
	SandboxBackend     types.String      `tfsdk:"sandbox_backend"`
	Image              types.String      `tfsdk:"image"`
	BuiltInProvider    types.String      `tfsdk:"built_in_provider"`
	ExternalURL        types.String      `tfsdk:"external_url"`
	Generation         types.Int64       `tfsdk:"generation"`
	ObservedGeneration types.Int64       `tfsdk:"observed_generation"`
	LifecycleState     types.String      `tfsdk:"lifecycle_state"`
	Readiness          types.String      `tfsdk:"readiness"`
	Health             types.String      `tfsdk:"health"`
	Endpoints          types.List        `tfsdk:"endpoints"`
	SandboxID          types.String      `tfsdk:"sandbox_id"`
	StatusMessage      types.String      `tfsdk:"status_message"`
	CreatedAt          timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt          timetypes.RFC3339 `tfsdk:"updated_at"`
}

// serviceInfoAttributes are the computed attributes of a service in the data
// sources (name and tenant_id are added by each data source).
func serviceInfoAttributes() map[string]schema.Attribute {
	s := func(d string) schema.Attribute { return schema.StringAttribute{Computed: true, MarkdownDescription: d} }
	return map[string]schema.Attribute{
		"id":                  s("`<tenant_id>/<name>`."),
		"labels":              schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Labels of the service."},
		"backend_kind":        s("Backend kind: `sandbox`, `builtIn` or `external`."),
		"sandbox_backend":     s("Sandbox runtime (`container` or `krun`) of a sandbox backend."),
		"image":               s("Image reference of a sandbox backend."),
		"built_in_provider":   s("Provider of a built-in backend."),
		"external_url":        s("URL of an external backend."),
		"generation":          schema.Int64Attribute{Computed: true, MarkdownDescription: "Generation of the spec and labels."},
		"observed_generation": schema.Int64Attribute{Computed: true, MarkdownDescription: "Generation the status describes."},
		"lifecycle_state":     s("Lifecycle state: `stopped`, `starting`, `running`, `stopping` or `failed`."),
		"readiness":           s("`ready` or `notReady`."),
		"health":              s("`healthy`, `unhealthy` or `unknown`."),
		"endpoints": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "Where the running service can be reached.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"name": s("Endpoint name."), "url": s("Endpoint URL."),
			}}},
		"sandbox_id":     s("Id of the sandbox a running sandbox-backed service owns."),
		"status_message": s("Server message explaining the current state."),
		"created_at":     schema.StringAttribute{Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: "Creation time (RFC 3339)."},
		"updated_at":     schema.StringAttribute{Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: "Time of the last change (RFC 3339)."},
	}
}

var serviceInfoAttrTypes = map[string]attr.Type{
	"id": types.StringType, "name": types.StringType, "tenant_id": types.StringType,
	"labels":       types.MapType{ElemType: types.StringType},
	"backend_kind": types.StringType, "sandbox_backend": types.StringType, "image": types.StringType,
	"built_in_provider": types.StringType, "external_url": types.StringType,
	"generation": types.Int64Type, "observed_generation": types.Int64Type,
	"lifecycle_state": types.StringType, "readiness": types.StringType, "health": types.StringType,
	"endpoints":  types.ListType{ElemType: types.ObjectType{AttrTypes: endpointAttrTypes}},
	"sandbox_id": types.StringType, "status_message": types.StringType,
	"created_at": timetypes.RFC3339Type{}, "updated_at": timetypes.RFC3339Type{},
}

// serviceInfoType is the Terraform type of serviceInfoAttrTypes, built
// once: every listed service's value shares it (an attr.Value's
// ToTerraformValue builds a type of its own for each object).
var serviceInfoType = sync.OnceValue(func() tftypes.Type {
	return types.ObjectType{AttrTypes: serviceInfoAttrTypes}.TerraformType(context.Background())
})

// terraformValue is m as a Terraform value of type serviceInfoType, built
// field by field (the data sources list thousands of them).
func (m serviceInfoModel) terraformValue(ctx context.Context) (tftypes.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	vals := make(map[string]tftypes.Value, len(serviceInfoAttrTypes))
	for name, v := range map[string]attr.Value{
		"id": m.ID, "name": m.Name, "tenant_id": m.TenantID, "labels": m.Labels,
		"backend_kind": m.BackendKind, "sandbox_backend": m.SandboxBackend, "image": m.Image,
		"built_in_provider": m.BuiltInProvider, "external_url": m.ExternalURL,
		"generation": m.Generation, "observed_generation": m.ObservedGeneration,
		"lifecycle_state": m.LifecycleState, "readiness": m.Readiness, "health": m.Health,
		"endpoints": m.Endpoints, "sandbox_id": m.SandboxID, "status_message": m.StatusMessage,
		"created_at": m.CreatedAt, "updated_at": m.UpdatedAt,
	} {
		tv, err := v.ToTerraformValue(ctx)
		if err != nil {
			diags.AddError("Could not build a listed service", fmt.Sprintf("Attribute %s: %s. This is a bug in the Nimbus provider; please report it.", name, err))
			return tftypes.Value{}, diags
		}
		vals[name] = tv
	}
	if err := tftypes.ValidateValue(serviceInfoType(), vals); err != nil {
		diags.AddError("Could not build a listed service", "This is a bug in the Nimbus provider; please report it. "+err.Error())
		return tftypes.Value{}, diags
	}
	return tftypes.NewValue(serviceInfoType(), vals), diags
}

func serviceInfo(svc *api.Service, diags *diag.Diagnostics) serviceInfoModel {
	md, st, b := svc.Metadata, svc.Status, svc.Spec.Backend
	labels, d := stringMapValue(md.Labels, types.MapNull(types.StringType))
	diags.Append(d...)
	eps, d := endpointsValue(st.Endpoints)
	diags.Append(d...)
	m := serviceInfoModel{
		ID: types.StringValue(md.TenantID + "/" + md.Name), Name: types.StringValue(md.Name), TenantID: types.StringValue(md.TenantID),
		Labels:          labels,
		BackendKind:     types.StringValue(b.Kind),
		SandboxBackend:  types.StringNull(),
		Image:           types.StringNull(),
		BuiltInProvider: stringOrNull(b.Provider),
		ExternalURL:     types.StringNull(),
		Generation:      types.Int64Value(md.Generation), ObservedGeneration: types.Int64Value(st.ObservedGeneration),
		LifecycleState: types.StringValue(st.LifecycleState), Readiness: stringOrNull(st.Readiness), Health: stringOrNull(st.Health),
		Endpoints: eps, SandboxID: stringOrNull(st.SandboxID), StatusMessage: stringOrNull(st.Message),
		CreatedAt: rfc3339(md.CreatedAt), UpdatedAt: rfc3339(md.UpdatedAt),
	}
	if b.Sandbox != nil {
		m.SandboxBackend = types.StringValue(b.Sandbox.Backend)
		m.Image = types.StringValue(b.Sandbox.Root.Source.Reference)
	}
	if b.Endpoint != nil {
		m.ExternalURL = types.StringValue(b.Endpoint.URL)
	}
	return m
}

func (d *ServiceDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := serviceInfoAttributes()
	attrs["name"] = schema.StringAttribute{Required: true, MarkdownDescription: "Name of the service to read.",
		Validators: []validator.String{validators.Name()}}
	attrs["tenant_id"] = dataSourceTenantAttr("Tenant of the service.")
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one Nimbus service by name: its backend (without the redacted launch inputs), labels and status.",
		Attributes:          attrs,
		Blocks:              map[string]schema.Block{"timeouts": dataSourceTimeoutsBlock(ctx, "the service")},
	}
}

// serviceDataSourceModel is nimbus_service's data: one service and the
// `timeouts` block.
type serviceDataSourceModel struct {
	serviceInfoModel
	Timeouts dstimeouts.Value `tfsdk:"timeouts"`
}

func (d *ServiceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg serviceDataSourceModel
	ctx, cancel, c, tenant := beginRead(ctx, d.data, req, resp, &cfg, func() types.String { return cfg.TenantID })
	defer cancel()
	if c == nil {
		return
	}
	name := cfg.Name.ValueString()
	svc, err := c.Services.Get(ctx, name, client.InTenant(tenant))
	if err != nil {
		addCallError(ctx, c, &resp.Diagnostics, fmt.Sprintf("Could not read service %s in tenant %s", name, tenant), err)
		return
	}
	m := serviceDataSourceModel{serviceInfoModel: serviceInfo(svc, &resp.Diagnostics), Timeouts: cfg.Timeouts}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

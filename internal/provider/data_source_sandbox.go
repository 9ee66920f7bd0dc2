package provider

import (
	"context"
	"fmt"
	"slices"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

var _ datasource.DataSourceWithConfigure = &SandboxDataSource{}

// sandboxDataAttrTypes are the attributes describing one sandbox in both
// data sources (the single one adds them at the top level).
var sandboxDataAttrTypes = map[string]attr.Type{
	"id":                 types.StringType,
	"tenant_id":          types.StringType,
	"profile":            types.StringType,
	"display_name":       types.StringType,
	"backend":            types.StringType,
	"image":              types.StringType,
	"argv_count":         types.Int64Type,
	"environment_count":  types.Int64Type,
	"labels":             types.MapType{ElemType: types.StringType},
	"lifecycle_state":    types.StringType,
	"message":            types.StringType,
	"endpoints":          types.ListType{ElemType: types.ObjectType{AttrTypes: endpointAttrTypes}},
	"owner_kind":         types.StringType,
	"owner_service_name": types.StringType,
	"generation":         types.Int64Type,
	"created_at":         timetypes.RFC3339Type{},
	"updated_at":         timetypes.RFC3339Type{},
}

var sandboxDataDescriptions = map[string]string{
	"id":                 "Sandbox id (`sbx-…`).",
	"tenant_id":          "Tenant of the sandbox.",
	"profile":            "`worker` or `desktop`.",
	"display_name":       "Display name of a standalone sandbox's owner.",
	"backend":            "`container` or `krun`.",
	"image":              "OCI image reference of the root filesystem.",
	"argv_count":         "Number of argv values (the API never returns the values).",
	"environment_count":  "Number of environment entries (the API never returns the values).",
	"labels":             "Labels.",
	"lifecycle_state":    "`pending`, `starting`, `running`, `stopping`, `stopped` or `failed`.",
	"message":            "The server's explanation of the current state, if any.",
	"endpoints":          "Where the sandbox can be reached: a list of `{name, url}`.",
	"owner_kind":         "`standalone`, or `service` for a sandbox a service owns.",
	"owner_service_name": "The owning service of a service-owned sandbox.",
	"generation":         "Generation (+1 on every label change).",
	"created_at":         "Creation time (RFC 3339).",
	"updated_at":         "Time of the last change (RFC 3339).",
}

// sandboxDataSchemaAttrs returns the computed sandbox attributes, except
// those in skip.
func sandboxDataSchemaAttrs(skip ...string) map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for name, typ := range sandboxDataAttrTypes {
		if slices.Contains(skip, name) {
			continue
		}
		desc := sandboxDataDescriptions[name]
		switch name {
		case "labels":
			out[name] = schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
		case "endpoints":
			out[name] = schema.ListAttribute{Computed: true, ElementType: types.ObjectType{AttrTypes: endpointAttrTypes}, MarkdownDescription: desc}
		case "created_at", "updated_at":
			out[name] = schema.StringAttribute{Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: desc}
		default:
			if typ == types.Int64Type {
				out[name] = schema.Int64Attribute{Computed: true, MarkdownDescription: desc}
			} else {
				out[name] = schema.StringAttribute{Computed: true, MarkdownDescription: desc}
			}
		}
	}
	return out
}

// sandboxInfoModel is one sandbox in both data sources (the attributes of
// sandboxDataAttrTypes).
type sandboxInfoModel struct {
	ID               types.String      `tfsdk:"id"`
	TenantID         types.String      `tfsdk:"tenant_id"`
	Profile          types.String      `tfsdk:"profile"`
	DisplayName      types.String      `tfsdk:"display_name"`
	Backend          types.String      `tfsdk:"backend"`
	Image            types.String      `tfsdk:"image"`
	ArgvCount        types.Int64       `tfsdk:"argv_count"`
	EnvironmentCount types.Int64       `tfsdk:"environment_count"`
	Labels           types.Map         `tfsdk:"labels"`
	LifecycleState   types.String      `tfsdk:"lifecycle_state"`
	Message          types.String      `tfsdk:"message"`
	Endpoints        types.List        `tfsdk:"endpoints"`
	OwnerKind        types.String      `tfsdk:"owner_kind"`
	OwnerServiceName types.String      `tfsdk:"owner_service_name"`
	Generation       types.Int64       `tfsdk:"generation"`
	CreatedAt        timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt        timetypes.RFC3339 `tfsdk:"updated_at"`
}

// sandboxInfo converts a sandbox to the data sources' model.
func sandboxInfo(sb *api.Sandbox, diags *diag.Diagnostics) sandboxInfoModel {
	labels, d := stringMapValue(sb.Metadata.Labels, types.MapNull(types.StringType))
	diags.Append(d...)
	eps, d := endpointsValue(sb.Status.Endpoints)
	diags.Append(d...)
	return sandboxInfoModel{
		ID:               types.StringValue(sb.Metadata.ID),
		TenantID:         types.StringValue(sb.Metadata.TenantID),
		Profile:          types.StringValue(sb.Spec.Profile),
		DisplayName:      stringOrNull(sb.Spec.Owner.DisplayName),
		Backend:          types.StringValue(sb.Spec.Backend),
		Image:            types.StringValue(sb.Spec.Root.Source.Reference),
		ArgvCount:        types.Int64Value(int64(sb.Spec.Process.Argv.Len())),
		EnvironmentCount: types.Int64Value(int64(sb.Spec.Process.Environment.Len())),
		Labels:           labels,
		LifecycleState:   types.StringValue(sb.Status.LifecycleState),
		Message:          types.StringValue(sb.Status.Message),
		Endpoints:        eps,
		OwnerKind:        types.StringValue(sb.Spec.Owner.Kind),
		OwnerServiceName: stringOrNull(sb.Spec.Owner.ServiceName),
		Generation:       types.Int64Value(sb.Metadata.Generation),
		CreatedAt:        rfc3339(sb.Metadata.CreatedAt),
		UpdatedAt:        rfc3339(sb.Metadata.UpdatedAt),
	}
}

// sandboxDataSourceModel is nimbus_sandbox's data: one sandbox and the
// `timeouts` block.
type sandboxDataSourceModel struct {
	sandboxInfoModel
	Timeouts dstimeouts.Value `tfsdk:"timeouts"`
}

// ------------------------------------------------------------ nimbus_sandbox

// NewSandboxDataSource returns the nimbus_sandbox data source.
func NewSandboxDataSource() datasource.DataSource {
	return &SandboxDataSource{dataSourceBase{suffix: "_sandbox"}}
}

// SandboxDataSource reads one sandbox by id.
type SandboxDataSource struct{ dataSourceBase }

func (d *SandboxDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := sandboxDataSchemaAttrs("id", "tenant_id")
	attrs["id"] = schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "Id of the sandbox (`sbx-…`), standalone or owned by a service.",
		Validators:          []validator.String{validators.SandboxID()},
	}
	attrs["tenant_id"] = dataSourceTenantAttr("Tenant of the sandbox.")
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one Nimbus sandbox by id. `argv` and `environment` are never returned by the API; " +
			"only their counts are.",
		Attributes: attrs,
		Blocks:     map[string]schema.Block{"timeouts": dataSourceTimeoutsBlock(ctx, "the sandbox")},
	}
}

func (d *SandboxDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	readByID(ctx, req, resp, d.data, "sandbox",
		func(c *client.Client) getFunc[api.Sandbox] { return c.Sandboxes.Get },
		func(sb *api.Sandbox, m *sandboxDataSourceModel, diags *diag.Diagnostics) {
			m.sandboxInfoModel = sandboxInfo(sb, diags)
		})
}

// getFunc is a client's Get of one object by ID.
type getFunc[T any] func(ctx context.Context, id string, opts ...client.CallOption) (*T, error)

// readByID is the Read of the data sources that read one object by `id`
// (and optional `tenant_id`) into a typed model M: get the object and fill
// the model's attributes from it (the `timeouts` block stays configured).
func readByID[T, M any](ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse, pd *providerData,
	kind string, get func(*client.Client) getFunc[T], fill func(*T, *M, *diag.Diagnostics)) {
	var m M
	var id, tenant types.String
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("tenant_id"), &tenant)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := dataSourceReadContext(ctx, req, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}
	c := clientFor(ctx, pd, &resp.Diagnostics)
	if c == nil {
		return
	}
	obj, err := get(c)(ctx, id.ValueString(), tenantCall(tenant)...)
	if err != nil {
		addCallError(ctx, c, &resp.Diagnostics, fmt.Sprintf("Could not read %s %s", kind, id.ValueString()), err)
		return
	}
	fill(obj, &m, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

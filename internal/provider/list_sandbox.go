package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

var (
	_ list.ListResource              = (*SandboxListResource)(nil)
	_ list.ListResourceWithConfigure = (*SandboxListResource)(nil)
)

// NewSandboxListResource returns the nimbus_sandbox list resource.
func NewSandboxListResource() list.ListResource { return &SandboxListResource{} }

// SandboxListResource lists standalone sandboxes for `terraform query`.
type SandboxListResource struct {
	data *providerData
}

// sandboxListModel is the `config` block of `list "nimbus_sandbox"`.
type sandboxListModel struct {
	TenantID       types.String `tfsdk:"tenant_id"`
	LabelKey       types.String `tfsdk:"label_key"`
	LabelValue     types.String `tfsdk:"label_value"`
	LifecycleState types.String `tfsdk:"lifecycle_state"`
}

// sandboxLifecycleStates are the values of a sandbox's lifecycle_state.
var sandboxLifecycleStates = []string{api.SandboxPending, api.SandboxStarting, api.SandboxRunning,
	api.SandboxStopping, api.SandboxStopped, api.SandboxFailed}

func (r *SandboxListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_sandbox"
}

func (r *SandboxListResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *SandboxListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the standalone sandboxes of a tenant for `terraform query`, optionally filtered by a label " +
			"and by lifecycle state, reading the listing one page at a time. Sandboxes owned by a service are left out: " +
			"Nimbus starts, stops and deletes them with their service, which `nimbus_service` manages. Each result has the " +
			"sandbox's identity (`tenant_id`, `id`); with `include_resource = true` it has the full `nimbus_sandbox` object as " +
			"a refresh after import would produce it. The API redacts `argv` and `environment`: they are null in results " +
			"(and in configuration generated with `-generate-config-out`), and each result that has them carries a warning " +
			"naming them.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Tenant to list. Defaults to the provider's tenant.",
				Validators:          []validator.String{validators.Name()},
			},
			"label_key": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Keep only sandboxes with this label key (any value unless `label_value` is set).",
			},
			"label_value": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Keep only sandboxes whose `label_key` label has this value. Requires `label_key`.",
				Validators:          []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("label_key"))},
			},
			"lifecycle_state": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Keep only sandboxes in this lifecycle state: " + backquoted(sandboxLifecycleStates) + ".",
				Validators:          []validator.String{stringvalidator.OneOf(sandboxLifecycleStates...)},
			},
		},
	}
}

func (r *SandboxListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg sandboxListModel
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
	opts := client.ListSandboxesOptions{
		Limit:          listPageLimit(req),
		LabelKey:       cfg.LabelKey.ValueString(),
		LabelValue:     cfg.LabelValue.ValueString(),
		LifecycleState: cfg.LifecycleState.ValueString(),
	}
	items := c.Sandboxes.All(ctx, opts, client.InTenant(tenant))
	standalone := func(sb *api.Sandbox) bool { return sb.Spec.Owner.Kind != api.OwnerKindService }
	streamList(ctx, req, stream, fmt.Sprintf("the sandboxes of tenant %s", tenant), items, standalone,
		func(ctx context.Context, sb *api.Sandbox, r *list.ListResult) {
			r.DisplayName = sb.Metadata.ID
			if dn := sb.Spec.Owner.DisplayName; dn != "" {
				r.DisplayName = sb.Metadata.ID + " (" + dn + ")"
			}
			id := objectIdentity{idAttr: "id", TenantID: sb.Metadata.TenantID, ID: sb.Metadata.ID}
			r.Diagnostics.Append(r.Identity.Set(ctx, id.model())...)
			if !req.IncludeResource {
				return
			}
			var m sandboxModel
			r.Diagnostics.Append(nullResourceModel(ctx, r.Resource, &m)...)
			// As Read after an import: tenant from the server, then setState.
			m.TenantID = types.StringValue(sb.Metadata.TenantID)
			(&SandboxResource{}).setState(ctx, &m, sb, &r.Diagnostics)
			r.Diagnostics.Append(r.Resource.Set(ctx, &m)...)
			redactedWarning(&r.Diagnostics, "sandbox "+sb.Metadata.ID, sandboxRedacted(sb))
		})
}

// sandboxRedacted names the attributes of sb whose values the API redacts
// and that hold values.
func sandboxRedacted(sb *api.Sandbox) []string {
	var out []string
	if sb.Spec.Process.Argv.Len() > 0 {
		out = append(out, "argv")
	}
	if sb.Spec.Process.Environment.Len() > 0 {
		out = append(out, "environment")
	}
	return out
}

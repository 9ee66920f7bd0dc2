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
	_ list.ListResource              = (*ServiceListResource)(nil)
	_ list.ListResourceWithConfigure = (*ServiceListResource)(nil)
)

// NewServiceListResource returns the nimbus_service list resource.
func NewServiceListResource() list.ListResource { return &ServiceListResource{} }

// ServiceListResource lists services for `terraform query`.
type ServiceListResource struct {
	data *providerData
}

// serviceListModel is the `config` block of `list "nimbus_service"`.
type serviceListModel struct {
	TenantID       types.String `tfsdk:"tenant_id"`
	LabelKey       types.String `tfsdk:"label_key"`
	LabelValue     types.String `tfsdk:"label_value"`
	LifecycleState types.String `tfsdk:"lifecycle_state"`
}

// serviceLifecycleStates are the values of a service's lifecycle_state.
var serviceLifecycleStates = []string{api.ServiceStopped, api.ServiceStarting, api.ServiceRunning, api.ServiceStopping, api.ServiceFailed}

func (r *ServiceListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service"
}

func (r *ServiceListResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *ServiceListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the services of a tenant for `terraform query`, optionally filtered by a label and by " +
			"lifecycle state, reading the listing one page at a time. Each result has the service's identity " +
			"(`tenant_id`, `name`); with `include_resource = true` it has the full `nimbus_service` object as a refresh " +
			"after import would produce it. The API redacts a sandbox backend's `argv` and `environment` and an external " +
			"backend's bearer `token`: they are null in results (and in configuration generated with " +
			"`-generate-config-out`), and each such result carries a warning naming them.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Tenant to list. Defaults to the provider's tenant.",
				Validators:          []validator.String{validators.Name()},
			},
			"label_key": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Keep only services with this label key (any value unless `label_value` is set).",
			},
			"label_value": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Keep only services whose `label_key` label has this value. Requires `label_key`.",
				Validators:          []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("label_key"))},
			},
			"lifecycle_state": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Keep only services in this lifecycle state: " + backquoted(serviceLifecycleStates) + ".",
				Validators:          []validator.String{stringvalidator.OneOf(serviceLifecycleStates...)},
			},
		},
	}
}

func (r *ServiceListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg serviceListModel
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
	opts := client.ListServicesOptions{
		Limit:          listPageLimit(req),
		LabelKey:       cfg.LabelKey.ValueString(),
		LabelValue:     cfg.LabelValue.ValueString(),
		LifecycleState: cfg.LifecycleState.ValueString(),
	}
	items := c.Services.All(ctx, opts, client.InTenant(tenant))
	streamList(ctx, req, stream, fmt.Sprintf("the services of tenant %s", tenant), items, nil,
		func(ctx context.Context, svc *api.Service, r *list.ListResult) {
			r.DisplayName = svc.Metadata.Name
			id := objectIdentity{idAttr: "name", TenantID: svc.Metadata.TenantID, ID: svc.Metadata.Name}
			r.Diagnostics.Append(r.Identity.Set(ctx, id.model())...)
			if !req.IncludeResource {
				return
			}
			var m serviceModel
			r.Diagnostics.Append(nullResourceModel(ctx, r.Resource, &m)...)
			m.fromListed(ctx, svc, &r.Diagnostics)
			r.Diagnostics.Append(r.Resource.Set(ctx, &m)...)
			redactedWarning(&r.Diagnostics, fmt.Sprintf("service %q", svc.Metadata.Name), serviceRedacted(svc))
		})
}

// fromListed fills an all-null model from a listed service exactly as Read
// does after an import: the observed spec, the desired run state following
// the observed one, the default wait_until and the status.
func (m *serviceModel) fromListed(ctx context.Context, svc *api.Service, diags *diag.Diagnostics) {
	m.TenantID = types.StringValue(svc.Metadata.TenantID)
	m.readSpec(ctx, svc, diags)
	m.Running = types.BoolValue(isUp(svc))
	m.WaitUntil = types.StringValue(api.WaitReady)
	m.setStatus(ctx, svc, diags)
}

// serviceRedacted names the attributes of svc whose values the API redacts
// and that hold values.
func serviceRedacted(svc *api.Service) []string {
	var out []string
	b := svc.Spec.Backend
	if s := b.Sandbox; s != nil {
		if s.Process.Argv.Len() > 0 {
			out = append(out, "sandbox.argv")
		}
		if s.Process.Environment.Len() > 0 {
			out = append(out, "sandbox.environment")
		}
	}
	if b.Auth != nil && b.Auth.Kind == api.AuthKindBearer {
		out = append(out, "external.auth.token")
	}
	return out
}

// backquoted renders values as "`a`, `b` or `c`".
func backquoted(values []string) string {
	s := ""
	for i, v := range values {
		switch {
		case i == 0:
		case i == len(values)-1:
			s += " or "
		default:
			s += ", "
		}
		s += "`" + v + "`"
	}
	return s
}

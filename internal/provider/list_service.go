package provider

import (
	"context"
	"fmt"
	"iter"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

var (
	_ list.ListResource              = (*ServiceListResource)(nil)
	_ list.ListResourceWithConfigure = (*ServiceListResource)(nil)
)

// NewServiceListResource returns the nimbus_service list resource.
func NewServiceListResource() list.ListResource {
	return &ServiceListResource{listBase{suffix: "_service"}}
}

// ServiceListResource lists services for `terraform query`.
type ServiceListResource struct {
	listBase
}

// serviceLifecycleStates are the values of a service's lifecycle_state.
var serviceLifecycleStates = []string{api.ServiceStopped, api.ServiceStarting, api.ServiceRunning, api.ServiceStopping, api.ServiceFailed}

func (r *ServiceListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the services of a tenant for `terraform query`, optionally filtered by a label and by " +
			"lifecycle state, reading the listing one page at a time. Each result has the service's identity " +
			"(`tenant_id`, `name`); with `include_resource = true` it has the full `nimbus_service` object as a refresh " +
			"after import would produce it. The API redacts a sandbox backend's `argv` and `environment` and an external " +
			"backend's bearer `token`: they are null in results (and in configuration generated with " +
			"`-generate-config-out`), and each such result carries a warning naming them.",
		Attributes: labelStateListAttrs("services", serviceLifecycleStates),
	}
}

func (r *ServiceListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	listObjects(ctx, r.data, req, stream, objectListing[labelStateListModel, api.Service, serviceModel]{
		plural: "services",
		tenant: func(cfg *labelStateListModel) types.String { return cfg.TenantID },
		items: func(ctx context.Context, c *client.Client, cfg *labelStateListModel, limit int, opts ...client.CallOption) iter.Seq2[api.Service, error] {
			return c.Services.All(ctx, client.ListServicesOptions{
				Limit:          limit,
				LabelKey:       cfg.LabelKey.ValueString(),
				LabelValue:     cfg.LabelValue.ValueString(),
				LifecycleState: cfg.LifecycleState.ValueString(),
			}, opts...)
		},
		result: func(svc *api.Service) (string, objectIdentity) {
			return svc.Metadata.Name, objectIdentity{idAttr: "name", TenantID: svc.Metadata.TenantID, ID: svc.Metadata.Name}
		},
		fill: func(ctx context.Context, svc *api.Service, m *serviceModel, diags *diag.Diagnostics) {
			m.fromListed(ctx, svc, diags)
		},
		redacted: func(svc *api.Service) (string, []string) {
			return fmt.Sprintf("service %q", svc.Metadata.Name), serviceRedacted(svc)
		},
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

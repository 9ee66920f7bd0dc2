package provider

import (
	"context"
	"iter"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

var (
	_ list.ListResource              = (*SandboxListResource)(nil)
	_ list.ListResourceWithConfigure = (*SandboxListResource)(nil)
)

// NewSandboxListResource returns the nimbus_sandbox list resource.
func NewSandboxListResource() list.ListResource {
	return &SandboxListResource{listBase{suffix: "_sandbox"}}
}

// SandboxListResource lists standalone sandboxes for `terraform query`.
type SandboxListResource struct {
	listBase
}

// sandboxLifecycleStates are the values of a sandbox's lifecycle_state.
var sandboxLifecycleStates = []string{api.SandboxPending, api.SandboxStarting, api.SandboxRunning,
	api.SandboxStopping, api.SandboxStopped, api.SandboxFailed}

func (r *SandboxListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the standalone sandboxes of a tenant for `terraform query`, optionally filtered by a label " +
			"and by lifecycle state, reading the listing one page at a time. Sandboxes owned by a service are left out: " +
			"Nimbus starts, stops and deletes them with their service, which `nimbus_service` manages. Each result has the " +
			"sandbox's identity (`tenant_id`, `id`); with `include_resource = true` it has the full `nimbus_sandbox` object as " +
			"a refresh after import would produce it. The API redacts `argv` and `environment`: they are null in results " +
			"(and in configuration generated with `-generate-config-out`), and each result that has them carries a warning " +
			"naming them.",
		Attributes: labelStateListAttrs("sandboxes", sandboxLifecycleStates),
	}
}

func (r *SandboxListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	listObjects(ctx, r.data, req, stream, objectListing[labelStateListModel, api.Sandbox, sandboxModel]{
		plural: "sandboxes",
		tenant: func(cfg *labelStateListModel) types.String { return cfg.TenantID },
		items: func(ctx context.Context, c *client.Client, cfg *labelStateListModel, limit int, opts ...client.CallOption) iter.Seq2[api.Sandbox, error] {
			return c.Sandboxes.All(ctx, client.ListSandboxesOptions{
				Limit:          limit,
				LabelKey:       cfg.LabelKey.ValueString(),
				LabelValue:     cfg.LabelValue.ValueString(),
				LifecycleState: cfg.LifecycleState.ValueString(),
			}, opts...)
		},
		keep: func(sb *api.Sandbox) bool { return sb.Spec.Owner.Kind != api.OwnerKindService },
		result: func(sb *api.Sandbox) (string, objectIdentity) {
			name := sb.Metadata.ID
			if dn := sb.Spec.Owner.DisplayName; dn != "" {
				name = sb.Metadata.ID + " (" + dn + ")"
			}
			return name, objectIdentity{idAttr: "id", TenantID: sb.Metadata.TenantID, ID: sb.Metadata.ID}
		},
		fill: func(ctx context.Context, sb *api.Sandbox, m *sandboxModel, diags *diag.Diagnostics) {
			// As Read after an import: tenant from the server, then setState.
			m.TenantID = types.StringValue(sb.Metadata.TenantID)
			(&SandboxResource{}).setState(ctx, m, sb, diags)
		},
		redacted: func(sb *api.Sandbox) (string, []string) { return "sandbox " + sb.Metadata.ID, sandboxRedacted(sb) },
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

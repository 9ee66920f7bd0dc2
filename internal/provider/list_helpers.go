package provider

// What the three list resources (list_service.go, list_sandbox.go,
// list_session.go) share: the type name and configure step, the config
// attributes, streaming a client listing page by page into list results,
// the identity and the full resource object of each result, and the warning
// for launch inputs the API redacts.

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/diagnostics"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

// listBase is what every list resource embeds: its type name after the
// provider's ("_service") and the provider data Configure hands it.
type listBase struct {
	suffix string
	data   *providerData
}

func (b *listBase) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + b.suffix
}

func (b *listBase) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	b.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

// listTenantAttr is the optional tenant_id of every list resource's config.
func listTenantAttr() schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: "Tenant to list. Defaults to the provider's tenant.",
		Validators:          []validator.String{validators.Name()},
	}
}

// labelStateListModel is the `config` block of a list of labelled objects
// with a lifecycle state (`list "nimbus_service"`, `list "nimbus_sandbox"`),
// the attributes of labelStateListAttrs.
type labelStateListModel struct {
	TenantID       types.String `tfsdk:"tenant_id"`
	LabelKey       types.String `tfsdk:"label_key"`
	LabelValue     types.String `tfsdk:"label_value"`
	LifecycleState types.String `tfsdk:"lifecycle_state"`
}

// labelStateListAttrs are the config attributes of a list of labelled
// objects with a lifecycle state (services, sandboxes): tenant_id,
// label_key, label_value and lifecycle_state, one of states. plural names
// the objects ("services").
func labelStateListAttrs(plural string, states []string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"tenant_id": listTenantAttr(),
		"label_key": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Keep only " + plural + " with this label key (any value unless `label_value` is set).",
		},
		"label_value": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Keep only " + plural + " whose `label_key` label has this value. Requires `label_key`.",
			Validators:          []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("label_key"))},
		},
		"lifecycle_state": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Keep only " + plural + " in this lifecycle state: " + backquoted(states) + ".",
			Validators:          []validator.String{stringvalidator.OneOf(states...)},
		},
	}
}

// objectListing is what one list resource tells listObjects: C is its
// config model, T the API object it lists, M the model of the resource
// each result holds.
type objectListing[C, T, M any] struct {
	// plural names what is listed ("services"): a failure says "Could not
	// list the services of tenant t".
	plural string
	// tenant is the configured tenant_id.
	tenant func(cfg *C) types.String
	// items fetches the listing page by page, limit objects a page.
	items func(ctx context.Context, c *client.Client, cfg *C, limit int, opts ...client.CallOption) iter.Seq2[T, error]
	// keep, when set, drops the objects it returns false for.
	keep func(it *T) bool
	// result is a result's display name and identity.
	result func(it *T) (string, objectIdentity)
	// fill fills an all-null model from a listed object exactly as Read
	// does after an import.
	fill func(ctx context.Context, it *T, m *M, diags *diag.Diagnostics)
	// redacted, when set, names the object for the warning and the
	// attributes of it whose values the API redacts and that hold values.
	redacted func(it *T) (string, []string)
}

// listObjects is the List of a list resource: it reads the config, lists
// the objects of the tenant (configured or the provider's) page by page and
// streams one result a kept object: display name and identity, and with
// include_resource the full resource object and the warning for redacted
// inputs.
func listObjects[C, T, M any](ctx context.Context, data *providerData, req list.ListRequest, stream *list.ListResultsStream,
	l objectListing[C, T, M]) {
	var cfg C
	var diags diag.Diagnostics
	diags.Append(req.Config.Get(ctx, &cfg)...)
	if diags.HasError() {
		listError(stream, diags)
		return
	}
	c := clientFor(ctx, data, &diags)
	if c == nil {
		listError(stream, diags)
		return
	}
	tenant := resolveTenant(c, l.tenant(&cfg), &diags)
	if diags.HasError() {
		listError(stream, diags)
		return
	}
	items := l.items(ctx, c, &cfg, listPageLimit(req), client.InTenant(tenant))
	streamList(ctx, req, stream, fmt.Sprintf("the %s of tenant %s", l.plural, tenant), items, l.keep,
		func(ctx context.Context, it *T, r *list.ListResult) {
			var id objectIdentity
			r.DisplayName, id = l.result(it)
			r.Diagnostics.Append(r.Identity.Set(ctx, id.model())...)
			if !req.IncludeResource {
				return
			}
			var m M
			r.Diagnostics.Append(nullResourceModel(ctx, r.Resource, &m)...)
			l.fill(ctx, it, &m, &r.Diagnostics)
			r.Diagnostics.Append(r.Resource.Set(ctx, &m)...)
			if l.redacted != nil {
				what, attrs := l.redacted(it)
				redactedWarning(&r.Diagnostics, what, attrs)
			}
		})
}

// listPageLimit is the page size a list resource asks the server for: the
// test override (listPageSize), else Terraform's limit when it is below the
// server's default page size (no point fetching 100 objects to show 10).
func listPageLimit(req list.ListRequest) int {
	if listPageSize > 0 {
		return listPageSize
	}
	if req.Limit > 0 && req.Limit < 100 {
		return int(req.Limit)
	}
	return 0
}

// streamList sets stream.Results to the objects of items (a client
// iterator that fetches one page at a time, so nothing is held beyond the
// current page): each kept object becomes one result filled in by fill. It
// stops after req.Limit results, when Terraform stops reading, or at the
// first error, which ends the stream as a result with an error diagnostic
// saying what was being listed.
func streamList[T any](ctx context.Context, req list.ListRequest, stream *list.ListResultsStream, what string,
	items iter.Seq2[T, error], keep func(*T) bool, fill func(context.Context, *T, *list.ListResult)) {
	stream.Results = func(push func(list.ListResult) bool) {
		var n int64
		for it, err := range items {
			if err != nil {
				var r list.ListResult
				diagnostics.Append(&r.Diagnostics, "Could not list "+what, err)
				push(r)
				return
			}
			if keep != nil && !keep(&it) {
				continue
			}
			r := req.NewListResult(ctx)
			fill(ctx, &it, &r)
			if !push(r) {
				return
			}
			n++
			if req.Limit > 0 && n >= req.Limit {
				return
			}
		}
	}
}

// listError ends a listing before it starts (bad configuration, no client).
func listError(stream *list.ListResultsStream, diags diag.Diagnostics) {
	stream.Results = list.ListResultsStreamDiagnostics(diags)
}

// nullResourceModel reads into target (a resource model) a resource object
// of schema s whose attributes are all null: every field gets a null value
// of its schema type (nested objects nil, the timeouts block null), the
// starting point that Read has after an import.
func nullResourceModel(ctx context.Context, r *tfsdk.Resource, target any) diag.Diagnostics {
	typ, ok := r.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		var d diag.Diagnostics
		d.AddError("Unexpected resource schema", "The resource schema is not an object. This is a bug in the Nimbus provider; please report it.")
		return d
	}
	vals := make(map[string]tftypes.Value, len(typ.AttributeTypes))
	for name, t := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(t, nil)
	}
	empty := tfsdk.Resource{Schema: r.Schema, Raw: tftypes.NewValue(typ, vals)}
	return empty.Get(ctx, target)
}

// redactedWarning tells the user which attributes of a listed object came
// out null because the API never returns their values; a configuration
// generated from the result (`terraform query -generate-config-out`) must
// have them filled in before it is applied.
func redactedWarning(diags *diag.Diagnostics, what string, attrs []string) {
	if len(attrs) == 0 {
		return
	}
	quoted := make([]string, len(attrs))
	for i, a := range attrs {
		quoted[i] = "`" + a + "`"
	}
	diags.AddWarning(fmt.Sprintf("Redacted inputs of %s are null", what),
		fmt.Sprintf("The Nimbus API never returns the values of %s (it reports only that they are set), so they are null in this "+
			"result and in any configuration generated from it (`terraform query -generate-config-out`). Fill them in before "+
			"applying the generated configuration: left null, Terraform does not know them, and the next change that sends "+
			"them (a replacement, or a change of the service backend) would send none.", strings.Join(quoted, ", ")))
}

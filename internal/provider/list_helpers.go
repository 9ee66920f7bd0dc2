package provider

// What the three list resources (list_service.go, list_sandbox.go,
// list_session.go) share: streaming a client listing page by page into list
// results, the identity and the full resource object of each result, and
// the warning for launch inputs the API redacts.

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/nimbus/terraform-provider-nimbus/internal/diagnostics"
)

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

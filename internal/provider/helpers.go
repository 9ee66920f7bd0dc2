package provider

// Helpers shared by every resource, data source and the ephemeral resource:
// conversions between API objects and Terraform values, import IDs, tenants
// and the timeouts-bounded operation context. Keep one copy of each here.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// listPageSize is the page size the list data sources ask for; 0 leaves it
// to the server (100). Tests lower it to prove every page is followed.
var listPageSize = 0

// endpointAttrTypes is the object type of one element of `endpoints`.
var endpointAttrTypes = map[string]attr.Type{
	"name": types.StringType,
	"url":  types.StringType,
}

// endpointsValue converts API endpoints to a list of {name, url} objects.
func endpointsValue(eps []api.Endpoint) (types.List, diag.Diagnostics) {
	elemType := types.ObjectType{AttrTypes: endpointAttrTypes}
	vals := make([]attr.Value, 0, len(eps))
	var diags diag.Diagnostics
	for _, e := range eps {
		o, d := types.ObjectValue(endpointAttrTypes, map[string]attr.Value{
			"name": types.StringValue(e.Name),
			"url":  types.StringValue(e.URL),
		})
		diags.Append(d...)
		vals = append(vals, o)
	}
	l, d := types.ListValue(elemType, vals)
	diags.Append(d...)
	return l, diags
}

// stringMapValue converts a Go map to a Terraform map of strings. An empty
// API map becomes null unless prior is a known empty map (the user wrote
// `{}`), so an unset attribute never shows a diff.
func stringMapValue(m map[string]string, prior types.Map) (types.Map, diag.Diagnostics) {
	if len(m) == 0 {
		if !prior.IsNull() && !prior.IsUnknown() && len(prior.Elements()) == 0 {
			return prior, nil
		}
		return types.MapNull(types.StringType), nil
	}
	return types.MapValueFrom(context.Background(), types.StringType, m)
}

// mapFromValue converts a known Terraform map of strings to a Go map.
func mapFromValue(ctx context.Context, v types.Map, diags *diag.Diagnostics) map[string]string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	return out
}

// stringOrNull returns a null string for "".
func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// rfc3339 converts a time to an RFC 3339 value (null for the zero time).
func rfc3339(t time.Time) timetypes.RFC3339 {
	if t.IsZero() {
		return timetypes.NewRFC3339Null()
	}
	// Keep the server's sub-second precision (NewRFC3339TimeValue would
	// truncate to seconds).
	return timetypes.NewRFC3339ValueMust(t.UTC().Format(time.RFC3339Nano))
}

// formatDuration writes d the way people write durations: "15m", "2h",
// "1h30m" rather than time.Duration's "15m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// privateImported is the private-state key that marks state made by an
// import and not yet applied: values the API never returns (sandbox argv
// and environment, a service's restart_triggers) are still unknown to
// Terraform.
const privateImported = "imported"

// splitImportID parses "id" or "tenant/id".
func splitImportID(raw, kind, example string) (tenant, id string, err error) {
	parts := strings.Split(raw, "/")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return "", parts[0], nil
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("the import ID %q is not a %s ID: use %q or %q", raw, kind, example, "TENANT/"+example)
}

// importByID is the ImportState of every importable resource: it accepts
// "ID" or "TENANT/ID", checks the ID part with check, sets idAttr (and
// tenant_id when given) and marks the state as imported. It reports false
// after adding a diagnostic.
func importByID(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse,
	kind, idAttr, example string, check func(string) error) bool {
	tenant, id, err := splitImportID(req.ID, kind, example)
	if err == nil {
		err = check(id)
	}
	if err == nil && tenant != "" {
		err = api.ValidateName(tenant)
	}
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("Import a %s by %s or TENANT/%s, such as %q or %q: %s.", kind, strings.ToUpper(idAttr), strings.ToUpper(idAttr),
				example, "acme/"+example, err))
		return false
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(idAttr), id)...)
	if tenant != "" {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("tenant_id"), tenant)...)
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, []byte("true"))...)
	return !resp.Diagnostics.HasError()
}

// operationContext bounds one create, update or delete by the resource's
// `timeouts` block (the provider's only timeout mechanism): pass
// plan.Timeouts.Create, .Update or state.Timeouts.Delete and its default.
// On a diagnostic the returned context is ctx itself.
func operationContext(ctx context.Context, timeout func(context.Context, time.Duration) (time.Duration, diag.Diagnostics),
	def time.Duration, diags *diag.Diagnostics) (context.Context, context.CancelFunc) {
	d, dd := timeout(ctx, def)
	diags.Append(dd...)
	if dd.HasError() {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// beginCall starts a CRUD call: the configured client and ctx bounded by
// the operation's timeout (the timeouts block's value, else def). On a
// diagnostic it returns a nil client; cancel is never nil.
func beginCall(ctx context.Context, pd *providerData, timeout func(context.Context, time.Duration) (time.Duration, diag.Diagnostics),
	def time.Duration, diags *diag.Diagnostics) (context.Context, *client.Client, context.CancelFunc) {
	c := clientFor(ctx, pd, diags)
	if c == nil {
		return ctx, nil, func() {}
	}
	ctx, cancel := operationContext(ctx, timeout, def, diags)
	if diags.HasError() {
		return ctx, nil, cancel
	}
	return ctx, c, cancel
}

// tenantCall returns the per-call tenant option for a known, non-empty tenant.
func tenantCall(tenant types.String) []client.CallOption {
	if tenant.IsNull() || tenant.IsUnknown() || tenant.ValueString() == "" {
		return nil
	}
	return []client.CallOption{client.InTenant(tenant.ValueString())}
}

// resolveTenant returns the tenant a new object goes to: the configured one,
// else the provider's default tenant.
func resolveTenant(c *client.Client, configured types.String, diags *diag.Diagnostics) string {
	if !configured.IsNull() && !configured.IsUnknown() && configured.ValueString() != "" {
		return configured.ValueString()
	}
	t := c.Settings().TenantID
	if t == "" {
		diags.AddError("No Nimbus tenant",
			"This resource has no tenant_id and the provider has no default tenant. "+
				"Set tenant_id on the resource, or tenant_id in the provider block, or the NIMBUS_TENANT_ID environment variable.")
	}
	return t
}

// sortedStrings returns the sorted set elements of v.
func sortedStrings(ctx context.Context, v types.Set, diags *diag.Diagnostics) []string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	sort.Strings(out)
	return out
}

// readRemote is the one place a resource's Read fetches its object: an object
// gone from the server (resource.not_found naming the object) is removed
// from the state so the next plan recreates it, and any other error becomes
// a diagnostic. A tenant the server does not know (wrong tenant, wrong
// server, a server started afresh) is such an error: it says nothing about
// the object, so the state is kept. It returns nil when Read has nothing
// more to do.
func readRemote[T any](ctx context.Context, c *client.Client, resp *resource.ReadResponse, what string, get func() (*T, error)) *T {
	obj, err := get()
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "Nimbus object no longer exists; removing it from state", map[string]any{"object": what})
		resp.State.RemoveResource(ctx)
		return nil
	}
	if err != nil {
		addCallError(ctx, c, &resp.Diagnostics, "Could not read "+what, err)
		return nil
	}
	return obj
}

// addCallError is addAPIError for an error of a call made with c: when the
// call's tenant does not exist, the diagnostic also lists the tenants the
// credential can use (one more request).
func addCallError(ctx context.Context, c *client.Client, diags *diag.Diagnostics, summary string, err error) {
	if c != nil {
		err = c.ExplainTenantNotFound(ctx, err)
	}
	addAPIError(diags, summary, err)
}

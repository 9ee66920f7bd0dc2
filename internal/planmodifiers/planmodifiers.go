// Package planmodifiers holds the provider's shared plan modifiers (the
// terraform-provider-random/-time layout: small packages instead of copies
// in each resource).
package planmodifiers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// DesiredState plans a computed observed-state attribute as the state apply
// brings the object to (want), and requires replacement when the refreshed
// state is none of keep: an object found in a state it cannot leave (for
// example a sandbox stopped outside Terraform, which cannot be started
// again) is replaced by the next apply instead of showing a perpetual diff.
// A create or an unknown prior value just plans want.
func DesiredState(want string, keep ...string) planmodifier.String {
	return desiredState{want: want, keep: keep}
}

type desiredState struct {
	want string
	keep []string
}

func (m desiredState) Description(context.Context) string {
	return fmt.Sprintf("Plans %q; an object found in any state but %s is replaced.", m.want, strings.Join(m.keep, ", "))
}

func (m desiredState) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (m desiredState) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	resp.PlanValue = types.StringValue(m.want)
	if req.State.Raw.IsNull() || req.StateValue.IsNull() || req.StateValue.IsUnknown() {
		return
	}
	if !slices.Contains(m.keep, req.StateValue.ValueString()) {
		resp.RequiresReplace = true
	}
}

// Getter reads one attribute of a plan, state or configuration
// (tfsdk.Plan, tfsdk.State and tfsdk.Config all are).
type Getter interface {
	GetAttribute(ctx context.Context, p path.Path, target any) diag.Diagnostics
}

// KeepFromState sets each named top-level attribute of plan to its value in
// the prior state. A resource's ModifyPlan calls it for the computed values
// an in-place change cannot alter: the framework plans every computed
// attribute unknown when anything changes, and a value that stays unknown
// needlessly replaces whatever depends on it.
func KeepFromState(ctx context.Context, state Getter, plan *tfsdk.Plan, attrs ...string) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, a := range attrs {
		var v attr.Value
		diags.Append(state.GetAttribute(ctx, path.Root(a), &v)...)
		if diags.HasError() {
			return diags
		}
		diags.Append(plan.SetAttribute(ctx, path.Root(a), v)...)
	}
	return diags
}

// MarkUnknown plans each named top-level attribute as unknown: values apply
// will change although the configuration did not (for example the status of
// an object that is still starting).
func MarkUnknown(ctx context.Context, plan *tfsdk.Plan, attrs ...string) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, a := range attrs {
		var v attr.Value
		diags.Append(plan.GetAttribute(ctx, path.Root(a), &v)...)
		if diags.HasError() {
			return diags
		}
		u, err := unknownOf(ctx, v)
		if err != nil {
			diags.AddAttributeError(path.Root(a), "Could not plan an unknown value",
				"This is a bug in the Nimbus provider; please report it: "+err.Error())
			return diags
		}
		diags.Append(plan.SetAttribute(ctx, path.Root(a), u)...)
	}
	return diags
}

// unknownOf returns the unknown value of v's type.
func unknownOf(ctx context.Context, v attr.Value) (attr.Value, error) {
	return v.Type(ctx).ValueFromTerraform(ctx, tftypes.NewValue(v.Type(ctx).TerraformType(ctx), tftypes.UnknownValue))
}

// SummaryChangedDuringApply is the diagnostic summary of
// ReportChangedDuringApply; tests match on it.
const SummaryChangedDuringApply = "changed outside Terraform during the apply"

// ReportChangedDuringApply adds an error when an apply finds values that the
// plan kept from the prior state (see KeepFromState) changed on the server:
// someone changed the object outside Terraform after the plan was made. what
// describes each value as the server now reports it; nothing is added when it
// is empty. (Terraform saves the state the provider returns with an error and
// skips its own consistency check, so the user sees this explanation instead
// of "Provider produced inconsistent result after apply".)
func ReportChangedDuringApply(diags *diag.Diagnostics, object string, what []string) {
	if len(what) == 0 {
		return
	}
	diags.AddError(fmt.Sprintf("The %s %s", object, SummaryChangedDuringApply),
		fmt.Sprintf("After the apply the server reports %s for the %s, which this plan expected to stay as "+
			"they were: the object was changed outside Terraform after the plan was made. Terraform saved what the "+
			"server reports. Run `terraform plan` to review the object as it is now, then apply again.",
			strings.Join(what, ", "), object))
}

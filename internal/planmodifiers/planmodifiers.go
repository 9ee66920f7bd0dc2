// Package planmodifiers holds the provider's shared plan modifiers (the
// terraform-provider-random/-time layout: small packages instead of copies
// in each resource).
package planmodifiers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
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

package planmodifiers

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestDesiredState(t *testing.T) {
	obj := tftypes.NewValue(tftypes.Object{}, map[string]tftypes.Value{})
	null := tftypes.NewValue(tftypes.Object{}, nil)
	m := DesiredState("running", "running", "starting", "pending")
	for _, tc := range []struct {
		name            string
		state           types.String
		create, destroy bool
		wantPlan        types.String
		wantReplace     bool
	}{
		{name: "create", state: types.StringNull(), create: true, wantPlan: types.StringValue("running")},
		{name: "running", state: types.StringValue("running"), wantPlan: types.StringValue("running")},
		{name: "starting", state: types.StringValue("starting"), wantPlan: types.StringValue("running")},
		{name: "pending", state: types.StringValue("pending"), wantPlan: types.StringValue("running")},
		{name: "stopped out of band", state: types.StringValue("stopped"), wantPlan: types.StringValue("running"), wantReplace: true},
		{name: "stopping", state: types.StringValue("stopping"), wantPlan: types.StringValue("running"), wantReplace: true},
		{name: "failed", state: types.StringValue("failed"), wantPlan: types.StringValue("running"), wantReplace: true},
		{name: "unknown prior", state: types.StringUnknown(), wantPlan: types.StringValue("running")},
		{name: "destroy", state: types.StringValue("stopped"), destroy: true, wantPlan: types.StringUnknown()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, plan := tfsdk.State{Raw: obj}, tfsdk.Plan{Raw: obj}
			if tc.create {
				state.Raw = null
			}
			if tc.destroy {
				plan.Raw = null
			}
			req := planmodifier.StringRequest{StateValue: tc.state, PlanValue: types.StringUnknown(), State: state, Plan: plan}
			resp := &planmodifier.StringResponse{PlanValue: req.PlanValue}
			m.PlanModifyString(context.Background(), req, resp)
			if !resp.PlanValue.Equal(tc.wantPlan) {
				t.Errorf("planned %s, want %s", resp.PlanValue, tc.wantPlan)
			}
			if resp.RequiresReplace != tc.wantReplace {
				t.Errorf("RequiresReplace = %v, want %v", resp.RequiresReplace, tc.wantReplace)
			}
		})
	}
}

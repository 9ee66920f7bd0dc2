package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestSandboxRunningModifier(t *testing.T) {
	obj := tftypes.NewValue(tftypes.Object{}, map[string]tftypes.Value{})
	null := tftypes.NewValue(tftypes.Object{}, nil)
	for _, tc := range []struct {
		name        string
		state       types.String
		create      bool
		wantReplace bool
	}{
		{"create", types.StringNull(), true, false},
		{"running", types.StringValue("running"), false, false},
		{"starting", types.StringValue("starting"), false, false},
		{"pending", types.StringValue("pending"), false, false},
		{"stopped out of band", types.StringValue("stopped"), false, true},
		{"stopping", types.StringValue("stopping"), false, true},
		{"failed", types.StringValue("failed"), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := tfsdk.State{Raw: obj}
			if tc.create {
				state.Raw = null
			}
			req := planmodifier.StringRequest{
				StateValue: tc.state, PlanValue: types.StringUnknown(),
				State: state, Plan: tfsdk.Plan{Raw: obj},
			}
			resp := &planmodifier.StringResponse{PlanValue: req.PlanValue}
			sandboxRunningModifier{}.PlanModifyString(context.Background(), req, resp)
			if resp.PlanValue.ValueString() != "running" {
				t.Errorf("planned %s, want running", resp.PlanValue)
			}
			if resp.RequiresReplace != tc.wantReplace {
				t.Errorf("RequiresReplace = %v, want %v", resp.RequiresReplace, tc.wantReplace)
			}
		})
	}
}

type fakePrivate map[string]string

func (f fakePrivate) GetKey(_ context.Context, key string) ([]byte, diag.Diagnostics) {
	return []byte(f[key]), nil
}

func TestAdoptLaunchInput(t *testing.T) {
	ctx := context.Background()
	argv := func(lc launchCounts) int { return lc.Argv }
	imported := fakePrivate{privateImported: "true", privateLaunchCounts: `{"argv":2,"env":1}`}
	created := fakePrivate{privateLaunchCounts: `{"argv":2,"env":1}`}
	for _, tc := range []struct {
		name      string
		p         privateGetter
		stateNull bool
		count     int
		want      bool
	}{
		{"imported, counts match", imported, true, 2, true},
		{"imported, counts differ", imported, true, 3, false},
		{"imported, state already known", imported, false, 2, false},
		{"not imported (switch from environment_wo)", created, true, 2, false},
		{"no private state", nil, true, 2, false},
	} {
		got, diags := adoptLaunchInput(ctx, tc.p, tc.stateNull, tc.count, argv)
		if diags.HasError() {
			t.Fatalf("%s: %v", tc.name, diags)
		}
		if got != tc.want {
			t.Errorf("%s: adopt = %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, diags := adoptLaunchInput(ctx, fakePrivate{privateImported: "true", privateLaunchCounts: "{"}, true, 2, argv); !diags.HasError() {
		t.Error("corrupt private state: no error")
	}
}

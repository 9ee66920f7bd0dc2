package planmodifiers

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
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
			m.PlanModifyString(t.Context(), req, resp)
			if !resp.PlanValue.Equal(tc.wantPlan) {
				t.Errorf("planned %s, want %s", resp.PlanValue, tc.wantPlan)
			}
			if resp.RequiresReplace != tc.wantReplace {
				t.Errorf("RequiresReplace = %v, want %v", resp.RequiresReplace, tc.wantReplace)
			}
		})
	}
}

func TestKeepFromStateAndMarkUnknown(t *testing.T) {
	ctx := t.Context()
	s := schema.Schema{Attributes: map[string]schema.Attribute{
		"generation": schema.Int64Attribute{Computed: true},
		"message":    schema.StringAttribute{Computed: true},
		"endpoints":  schema.ListAttribute{Computed: true, ElementType: types.StringType},
	}}
	typ := s.Type().TerraformType(ctx)
	obj := func(gen tftypes.Value, msg tftypes.Value, eps tftypes.Value) tftypes.Value {
		return tftypes.NewValue(typ, map[string]tftypes.Value{"generation": gen, "message": msg, "endpoints": eps})
	}
	list := tftypes.List{ElementType: tftypes.String}
	state := tfsdk.State{Schema: s, Raw: obj(tftypes.NewValue(tftypes.Number, 3), tftypes.NewValue(tftypes.String, "running"),
		tftypes.NewValue(list, []tftypes.Value{tftypes.NewValue(tftypes.String, "http://a")}))}
	plan := tfsdk.Plan{Schema: s, Raw: obj(tftypes.NewValue(tftypes.Number, tftypes.UnknownValue),
		tftypes.NewValue(tftypes.String, "running"), tftypes.NewValue(list, tftypes.UnknownValue))}

	if d := KeepFromState(ctx, state, &plan, "generation", "endpoints"); d.HasError() {
		t.Fatal(d)
	}
	if d := MarkUnknown(ctx, &plan, "message"); d.HasError() {
		t.Fatal(d)
	}
	var gen types.Int64
	var msg types.String
	var eps types.List
	plan.GetAttribute(ctx, path.Root("generation"), &gen)
	plan.GetAttribute(ctx, path.Root("message"), &msg)
	plan.GetAttribute(ctx, path.Root("endpoints"), &eps)
	if gen.ValueInt64() != 3 || gen.IsUnknown() {
		t.Errorf("generation = %s, want 3 kept from state", gen)
	}
	if !msg.IsUnknown() {
		t.Errorf("message = %s, want unknown", msg)
	}
	if eps.IsUnknown() || len(eps.Elements()) != 1 {
		t.Errorf("endpoints = %s, want the state's", eps)
	}
}

func TestReportChangedDuringApply(t *testing.T) {
	var diags diag.Diagnostics
	ReportChangedDuringApply(&diags, `service "web"`, nil)
	if diags.HasError() {
		t.Fatal("nothing changed: no error expected")
	}
	ReportChangedDuringApply(&diags, `service "web"`, []string{"generation 4 (planned 3)"})
	if !diags.HasError() || !strings.Contains(diags[0].Summary(), SummaryChangedDuringApply) ||
		!strings.Contains(diags[0].Detail(), "generation 4 (planned 3)") {
		t.Fatalf("got %v", diags)
	}
}

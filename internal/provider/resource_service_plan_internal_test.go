package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// TestPlanServiceChange covers the decisions of the service's ModifyPlan
// that the acceptance tests do not reach: unknown planned values, a service
// between states, and the first apply after an import.
func TestPlanServiceChange(t *testing.T) {
	ctx := t.Context()
	var sr resource.SchemaResponse
	(&ServiceResource{}).Schema(ctx, resource.SchemaRequest{}, &sr)
	s := sr.Schema
	base := func(lifecycle string) tfsdk.State {
		st := tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
		for p, v := range map[string]any{
			"name": "web", "running": true, "lifecycle_state": lifecycle, "generation": int64(2),
			"built_in": serviceBuiltInModel{Provider: types.StringValue(api.ProviderLoadBalancer)},
		} {
			if d := st.SetAttribute(ctx, path.Root(p), v); d.HasError() {
				t.Fatal(d)
			}
		}
		return st
	}
	planFrom := func(st tfsdk.State, p string, v any) tfsdk.Plan {
		pl := tfsdk.Plan{Schema: s, Raw: st.Raw.Copy()}
		if p != "" {
			if d := pl.SetAttribute(ctx, path.Root(p), v); d.HasError() {
				t.Fatal(d)
			}
		}
		return pl
	}
	for _, tc := range []struct {
		name            string
		lifecycle       string
		attr            string
		value           any
		imported        bool
		patch, cyclesOK bool // cyclesOK: rollsOrCycles wanted
	}{
		{name: "labels", lifecycle: api.ServiceRunning, attr: "labels", value: map[string]string{"a": "b"}, patch: true},
		{name: "unknown labels", lifecycle: api.ServiceRunning, attr: "labels", value: types.MapUnknown(types.StringType), patch: true},
		{name: "wait_until", lifecycle: api.ServiceRunning, attr: "wait_until", value: "healthy"},
		{name: "unknown running", lifecycle: api.ServiceRunning, attr: "running", value: types.BoolUnknown(), cyclesOK: true},
		{name: "unknown backend", lifecycle: api.ServiceRunning, attr: "built_in",
			value: types.ObjectUnknown(map[string]attr.Type{"provider": types.StringType}), patch: true, cyclesOK: true},
		{name: "labels while starting", lifecycle: api.ServiceStarting, attr: "labels", value: map[string]string{"a": "b"}, patch: true, cyclesOK: true},
		{name: "restart_triggers", lifecycle: api.ServiceRunning, attr: "restart_triggers", value: map[string]string{"v": "1"}, cyclesOK: true},
		{name: "restart_triggers after import", lifecycle: api.ServiceRunning, attr: "restart_triggers", value: map[string]string{"v": "1"}, imported: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := base(tc.lifecycle)
			ch, d := planServiceChange(ctx, planFrom(st, tc.attr, tc.value), st, tc.imported)
			if d.HasError() {
				t.Fatal(d)
			}
			if ch.patch != tc.patch || ch.rollsOrCycles != tc.cyclesOK {
				t.Errorf("got patch=%v rollsOrCycles=%v, want %v %v", ch.patch, ch.rollsOrCycles, tc.patch, tc.cyclesOK)
			}
		})
	}
}

// TestPlanServiceChange_writeOnlyVersion: bumping a *_wo_version is a
// backend change (a PATCH that rolls the service), though the write-only
// value itself is never in plan or state.
func TestPlanServiceChange_writeOnlyVersion(t *testing.T) {
	ctx := t.Context()
	var sr resource.SchemaResponse
	(&ServiceResource{}).Schema(ctx, resource.SchemaRequest{}, &sr)
	s := sr.Schema
	sandbox := func(v int64) *serviceSandboxModel {
		return &serviceSandboxModel{
			Backend: types.StringValue(api.RuntimeContainer), Image: types.StringValue("example/app:1"),
			Argv: types.ListNull(types.StringType), Environment: types.MapNull(types.StringType),
			EnvironmentWO: types.MapNull(types.StringType), EnvironmentWOVersion: types.Int64Value(v),
		}
	}
	external := func(v int64) *serviceExternalModel {
		return &serviceExternalModel{URL: types.StringValue("http://127.0.0.1:1"), HealthPath: types.StringNull(),
			Auth: &serviceExternalAuthModel{Kind: types.StringValue(api.AuthKindBearer), Token: types.StringNull(),
				TokenWO: types.StringNull(), TokenWOVersion: types.Int64Value(v)}}
	}
	for name, backend := range map[string]func(int64) (string, any){
		"environment_wo_version": func(v int64) (string, any) { return "sandbox", sandbox(v) },
		"token_wo_version":       func(v int64) (string, any) { return "external", external(v) },
	} {
		t.Run(name, func(t *testing.T) {
			build := func(v int64) tfsdk.State {
				st := tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
				attr, val := backend(v)
				for p, x := range map[string]any{"name": "web", "running": true, "lifecycle_state": api.ServiceRunning, attr: val} {
					if d := st.SetAttribute(ctx, path.Root(p), x); d.HasError() {
						t.Fatal(d)
					}
				}
				return st
			}
			state, bumped := build(1), build(2)
			ch, d := planServiceChange(ctx, tfsdk.Plan{Schema: s, Raw: bumped.Raw}, state, false)
			if d.HasError() {
				t.Fatal(d)
			}
			if !ch.patch || !ch.rollsOrCycles {
				t.Errorf("got patch=%v rollsOrCycles=%v, want both", ch.patch, ch.rollsOrCycles)
			}
			var pm, sm serviceModel
			if d := bumped.Get(ctx, &pm); d.HasError() {
				t.Fatal(d)
			}
			if d := state.Get(ctx, &sm); d.HasError() {
				t.Fatal(d)
			}
			if sameBackend(ctx, pm, sm) {
				t.Error("sameBackend: a version bump must send the backend")
			}
			if !sameBackend(ctx, sm, sm) {
				t.Error("sameBackend: same versions must not send the backend")
			}
		})
	}
}

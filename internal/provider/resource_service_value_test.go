package provider

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// TestServiceModelValue: getServiceModel and serviceValue agree with the
// framework's reflection (tfsdk.State Get and Set) on models of every
// backend, with and without the optional nested blocks.
func TestServiceModelValue(t *testing.T) {
	ctx := t.Context()
	var sr resource.SchemaResponse
	(&ServiceResource{}).Schema(ctx, resource.SchemaRequest{}, &sr)

	timeoutsType, ok := serviceType().AttrTypes["timeouts"].(timeouts.Type)
	if !ok {
		t.Fatalf("timeouts is a %T", serviceType().AttrTypes["timeouts"])
	}
	strs := func(vs ...string) types.List {
		l, d := types.ListValueFrom(ctx, types.StringType, vs)
		if d.HasError() {
			t.Fatal(d)
		}
		return l
	}
	env := func(kv map[string]string) types.Map {
		m, d := types.MapValueFrom(ctx, types.StringType, kv)
		if d.HasError() {
			t.Fatal(d)
		}
		return m
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 123, time.UTC)
	status := func(m serviceModel) serviceModel {
		svc := &api.Service{
			Metadata: api.ObjectMeta{Name: "web", TenantID: "acc", Generation: 3, CreatedAt: now, UpdatedAt: now},
			Status: api.ServiceStatus{ObservedGeneration: 3, LifecycleState: api.ServiceRunning, Readiness: "ready",
				Health: "healthy", SandboxID: "sbx-1",
				Conditions: []api.Condition{{Type: "Ready", Status: "True", Reason: "Running", ObservedGeneration: 3, LastTransitionTime: now}},
				Endpoints:  []api.Endpoint{{Name: "http", URL: "http://127.0.0.1:1"}}},
		}
		var diags diag.Diagnostics
		m.setStatus(ctx, svc, &diags)
		if diags.HasError() {
			t.Fatal(diags)
		}
		return m
	}
	base := func() serviceModel {
		return serviceModel{
			Name: types.StringValue("web"), TenantID: types.StringValue("acc"), Labels: types.MapNull(types.StringType),
			Running: types.BoolValue(true), WaitUntil: types.StringValue(api.WaitReady),
			RestartTriggers: types.MapNull(types.StringType),
			Timeouts:        timeouts.Value{Object: types.ObjectNull(timeoutsType.AttrTypes)},
		}
	}
	builtIn := base()
	builtIn.BuiltIn = &serviceBuiltInModel{Provider: types.StringValue(api.ProviderLoadBalancer)}
	sandbox := base()
	sandbox.Labels = env(map[string]string{"team": "web"})
	sandbox.Sandbox = &serviceSandboxModel{Backend: types.StringValue(api.RuntimeContainer), Image: types.StringValue("web:1"),
		Argv: strs("web", "--port", "80"), Environment: env(map[string]string{"A": "1"}),
		EnvironmentWO: types.MapNull(types.StringType), EnvironmentWOVersion: types.Int64Value(2)}
	external := base()
	external.RestartTriggers = env(map[string]string{"config": "abc"})
	external.External = &serviceExternalModel{URL: types.StringValue("https://search.internal"), HealthPath: types.StringNull()}
	withAuth := external
	withAuth.External = &serviceExternalModel{URL: types.StringValue("https://search.internal"), HealthPath: types.StringValue("/healthz"),
		Auth: &serviceExternalAuthModel{Kind: types.StringValue(api.AuthKindBearer), Token: types.StringNull(),
			TokenWO: types.StringNull(), TokenWOVersion: types.Int64Value(1)}}
	withTimeouts := builtIn
	to, d := types.ObjectValue(timeoutsType.AttrTypes, map[string]attr.Value{
		"create": types.StringValue("5m"), "read": types.StringNull(), "update": types.StringNull(), "delete": types.StringValue("1m"),
	})
	if d.HasError() {
		t.Fatal(d)
	}
	withTimeouts.Timeouts = timeouts.Value{Object: to}

	for name, m := range map[string]serviceModel{
		"built_in": status(builtIn), "sandbox": status(sandbox), "external": status(external),
		"external auth": status(withAuth), "timeouts": status(withTimeouts),
	} {
		t.Run(name, func(t *testing.T) {
			want := tfsdk.State{Schema: sr.Schema}
			if d := want.Set(ctx, &m); d.HasError() {
				t.Fatal(d)
			}
			got, d := serviceValue(ctx, &m)
			if d.HasError() {
				t.Fatal(d)
			}
			if !got.Equal(want.Raw) {
				t.Fatalf("serviceValue differs from State.Set:\n%s", cmp.Diff(want.Raw.String(), got.String()))
			}
			var viaFramework, viaCodec serviceModel
			if d := want.Get(ctx, &viaFramework); d.HasError() {
				t.Fatal(d)
			}
			if d := getServiceModel(ctx, want.Raw, &viaCodec); d.HasError() {
				t.Fatal(d)
			}
			back, d := serviceValue(ctx, &viaCodec)
			if d.HasError() {
				t.Fatal(d)
			}
			again := tfsdk.State{Schema: sr.Schema}
			if d := again.Set(ctx, &viaFramework); d.HasError() {
				t.Fatal(d)
			}
			if !back.Equal(again.Raw) {
				t.Fatalf("getServiceModel differs from State.Get:\n%s", cmp.Diff(again.Raw.String(), back.String()))
			}
		})
	}
}

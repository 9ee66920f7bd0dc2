package provider

// nimbus_service's model to and from its Terraform value without the
// framework's reflection. tfsdk.State.Get and Set walk the model's struct
// tags on every call (and compile a pattern per field to check them); for
// Read, which runs for every service on every refresh, that was a quarter
// of the provider's CPU per ReadResource (issue 10). Create, Update and
// Delete use the same conversions. They are plain field copies;
// TestServiceModelValue checks that they agree with the framework's Get and
// Set on every backend.

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// serviceType is nimbus_service's object type, computed once from the
// schema the framework hands the resource.
var serviceType = sync.OnceValue(func() types.ObjectType {
	var resp resource.SchemaResponse
	(&ServiceResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	typ, _ := resp.Schema.Type().(types.ObjectType)
	return typ
})

// nestedType is the object type of the nested attribute name of typ.
func nestedType(typ types.ObjectType, name string) types.ObjectType {
	t, _ := typ.AttrTypes[name].(types.ObjectType)
	return t
}

// getServiceModel reads v (a state, plan or configuration of
// nimbus_service) into m.
func getServiceModel(ctx context.Context, v tftypes.Value, m *serviceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	val, err := serviceType().ValueFromTerraform(ctx, v)
	if err != nil {
		diags.AddError("Could not read nimbus_service data",
			"This is a bug in the Nimbus provider; please report it. "+err.Error())
		return diags
	}
	obj, _ := val.(types.Object)
	a := obj.Attributes()
	get := func(name string, target any) {
		if err := assign(a[name], target); err != nil {
			diags.AddError("Could not read nimbus_service data",
				fmt.Sprintf("Attribute %s: %s. This is a bug in the Nimbus provider; please report it.", name, err))
		}
	}
	get("id", &m.ID)
	get("name", &m.Name)
	get("tenant_id", &m.TenantID)
	get("labels", &m.Labels)
	get("running", &m.Running)
	get("wait_until", &m.WaitUntil)
	get("restart_triggers", &m.RestartTriggers)
	get("timeouts", &m.Timeouts)
	get("generation", &m.Generation)
	get("observed_generation", &m.ObservedGeneration)
	get("lifecycle_state", &m.LifecycleState)
	get("readiness", &m.Readiness)
	get("health", &m.Health)
	get("status_message", &m.StatusMessage)
	get("sandbox_id", &m.SandboxID)
	get("conditions", &m.Conditions)
	get("endpoints", &m.Endpoints)
	get("created_at", &m.CreatedAt)
	get("updated_at", &m.UpdatedAt)

	var sandbox, builtIn, external types.Object
	get("sandbox", &sandbox)
	get("built_in", &builtIn)
	get("external", &external)
	m.Sandbox, m.BuiltIn, m.External = nil, nil, nil
	if present(sandbox) {
		s := sandbox.Attributes()
		m.Sandbox = &serviceSandboxModel{}
		get2 := nestedGetter(&diags, "sandbox", s)
		get2("backend", &m.Sandbox.Backend)
		get2("image", &m.Sandbox.Image)
		get2("argv", &m.Sandbox.Argv)
		get2("environment", &m.Sandbox.Environment)
		get2("environment_wo", &m.Sandbox.EnvironmentWO)
		get2("environment_wo_version", &m.Sandbox.EnvironmentWOVersion)
	}
	if present(builtIn) {
		m.BuiltIn = &serviceBuiltInModel{}
		nestedGetter(&diags, "built_in", builtIn.Attributes())("provider", &m.BuiltIn.Provider)
	}
	if present(external) {
		m.External = &serviceExternalModel{}
		get2 := nestedGetter(&diags, "external", external.Attributes())
		get2("url", &m.External.URL)
		get2("health_path", &m.External.HealthPath)
		var auth types.Object
		get2("auth", &auth)
		if present(auth) {
			m.External.Auth = &serviceExternalAuthModel{}
			get3 := nestedGetter(&diags, "external.auth", auth.Attributes())
			get3("kind", &m.External.Auth.Kind)
			get3("token", &m.External.Auth.Token)
			get3("token_wo", &m.External.Auth.TokenWO)
			get3("token_wo_version", &m.External.Auth.TokenWOVersion)
		}
	}
	return diags
}

// present reports whether a nested attribute's object is set. Like the
// framework's reflection into a pointer, a null object is nil; unlike it, an
// unknown one (only in a plan, never in state) is nil too rather than an
// error: nothing that reads it here looks inside it.
func present(o types.Object) bool { return !o.IsNull() && !o.IsUnknown() }

func nestedGetter(diags *diag.Diagnostics, where string, a map[string]attr.Value) func(string, any) {
	return func(name string, target any) {
		if err := assign(a[name], target); err != nil {
			diags.AddError("Could not read nimbus_service data",
				fmt.Sprintf("Attribute %s.%s: %s. This is a bug in the Nimbus provider; please report it.", where, name, err))
		}
	}
}

// assign stores v in target, a pointer to a value type of this package's
// models.
func assign(v attr.Value, target any) error {
	ok := false
	switch t := target.(type) {
	case *types.String:
		*t, ok = v.(types.String)
	case *types.Int64:
		*t, ok = v.(types.Int64)
	case *types.Bool:
		*t, ok = v.(types.Bool)
	case *types.Map:
		*t, ok = v.(types.Map)
	case *types.List:
		*t, ok = v.(types.List)
	case *types.Object:
		*t, ok = v.(types.Object)
	case *timetypes.RFC3339:
		*t, ok = v.(timetypes.RFC3339)
	case *timeouts.Value:
		*t, ok = v.(timeouts.Value)
	default:
		return fmt.Errorf("unsupported target %T", target)
	}
	if !ok {
		return fmt.Errorf("value of type %T", v)
	}
	return nil
}

// serviceValue is m as a Terraform value of nimbus_service's type.
func serviceValue(ctx context.Context, m *serviceModel) (tftypes.Value, diag.Diagnostics) {
	typ := serviceType()
	var diags diag.Diagnostics
	object := func(t types.ObjectType, attrs map[string]attr.Value) types.Object {
		o, d := types.ObjectValue(t.AttrTypes, attrs)
		diags.Append(d...)
		return o
	}
	sandboxType, builtInType, externalType := nestedType(typ, "sandbox"), nestedType(typ, "built_in"), nestedType(typ, "external")
	authType := nestedType(externalType, "auth")
	sandbox, builtIn, external := types.ObjectNull(sandboxType.AttrTypes), types.ObjectNull(builtInType.AttrTypes), types.ObjectNull(externalType.AttrTypes)
	if s := m.Sandbox; s != nil {
		sandbox = object(sandboxType, map[string]attr.Value{
			"backend": s.Backend, "image": s.Image, "argv": s.Argv, "environment": s.Environment,
			"environment_wo": s.EnvironmentWO, "environment_wo_version": s.EnvironmentWOVersion,
		})
	}
	if b := m.BuiltIn; b != nil {
		builtIn = object(builtInType, map[string]attr.Value{"provider": b.Provider})
	}
	if e := m.External; e != nil {
		auth := types.ObjectNull(authType.AttrTypes)
		if a := e.Auth; a != nil {
			auth = object(authType, map[string]attr.Value{
				"kind": a.Kind, "token": a.Token, "token_wo": a.TokenWO, "token_wo_version": a.TokenWOVersion,
			})
		}
		external = object(externalType, map[string]attr.Value{"url": e.URL, "health_path": e.HealthPath, "auth": auth})
	}
	if diags.HasError() {
		return tftypes.Value{}, diags
	}
	return objectTerraformValue(ctx, "nimbus_service data", typ.AttrTypes, map[string]attr.Value{
		"id": m.ID, "name": m.Name, "tenant_id": m.TenantID, "labels": m.Labels,
		"sandbox": sandbox, "built_in": builtIn, "external": external,
		"running": m.Running, "wait_until": m.WaitUntil, "restart_triggers": m.RestartTriggers, "timeouts": m.Timeouts,
		"generation": m.Generation, "observed_generation": m.ObservedGeneration, "lifecycle_state": m.LifecycleState,
		"readiness": m.Readiness, "health": m.Health, "status_message": m.StatusMessage, "sandbox_id": m.SandboxID,
		"conditions": m.Conditions, "endpoints": m.Endpoints, "created_at": m.CreatedAt, "updated_at": m.UpdatedAt,
	})
}

// setServiceState sets state to m, as State.Set(ctx, m) does.
func setServiceState(ctx context.Context, state *tfsdk.State, m *serviceModel) diag.Diagnostics {
	v, diags := serviceValue(ctx, m)
	if !diags.HasError() {
		state.Raw = v
	}
	return diags
}

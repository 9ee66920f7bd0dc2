package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

const (
	defaultServiceCreateTimeout = 20 * time.Minute
	defaultServiceUpdateTimeout = 20 * time.Minute
	defaultServiceDeleteTimeout = 10 * time.Minute
	waitNone                    = "none"
)

var (
	_ resource.Resource                     = (*ServiceResource)(nil)
	_ resource.ResourceWithConfigure        = (*ServiceResource)(nil)
	_ resource.ResourceWithImportState      = (*ServiceResource)(nil)
	_ resource.ResourceWithConfigValidators = (*ServiceResource)(nil)
)

// ServiceResource is the nimbus_service resource.
type ServiceResource struct {
	data *providerData
}

// NewServiceResource returns a nimbus_service resource.
func NewServiceResource() resource.Resource { return &ServiceResource{} }

func (r *ServiceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service"
}

func (r *ServiceResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

// ConfigValidators requires exactly one backend, with a message naming all
// three (the per-attribute validators repeat it on the offending block).
func (r *ServiceResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("sandbox"), path.MatchRoot("built_in"), path.MatchRoot("external")),
	}
}

// ValidateConfig-level checks that need two attributes live here.
var _ resource.ResourceWithValidateConfig = (*ServiceResource)(nil)

func (r *ServiceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var kind, token, tokenWO types.String
	auth := path.Root("external").AtName("auth")
	tokenPath, tokenWOPath := auth.AtName("token"), auth.AtName("token_wo")
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, auth.AtName("kind"), &kind)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, tokenPath, &token)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, tokenWOPath, &tokenWO)...)
	if resp.Diagnostics.HasError() || kind.IsUnknown() || token.IsUnknown() || tokenWO.IsUnknown() || kind.IsNull() {
		return
	}
	switch {
	case kind.ValueString() == api.AuthKindBearer && token.IsNull() && tokenWO.IsNull():
		resp.Diagnostics.AddAttributeError(tokenPath, "Missing bearer token",
			`external.auth.kind is "bearer", so external.auth.token or external.auth.token_wo (write-only, `+
				`kept out of state; Terraform 1.11+ or OpenTofu 1.11+) must be set, for example from a variable marked sensitive.`)
	case kind.ValueString() == api.AuthKindNone && !token.IsNull():
		resp.Diagnostics.AddAttributeError(tokenPath, "Token not allowed",
			`external.auth.token is only used with kind = "bearer"; remove it or set kind = "bearer".`)
	case kind.ValueString() == api.AuthKindNone && !tokenWO.IsNull():
		resp.Diagnostics.AddAttributeError(tokenWOPath, "Token not allowed",
			`external.auth.token_wo is only used with kind = "bearer"; remove it or set kind = "bearer".`)
	}
}

// ------------------------------------------------------------------- CRUD

func (r *ServiceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer setIdentity(ctx, resp.Identity, &resp.Diagnostics, "name", &resp.State)
	var plan, config serviceModel
	resp.Diagnostics.Append(getServiceModel(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(getServiceModel(ctx, req.Config.Raw, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, plan.Timeouts.Create, defaultServiceCreateTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}

	name := plan.Name.ValueString()
	tenant := resolveTenant(c, plan.TenantID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	backend := plan.backend(ctx, &config, &resp.Diagnostics)
	labels := mapFromValue(ctx, plan.Labels, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	opt := client.InTenant(tenant)
	svc, err := c.Services.Create(ctx, api.CreateServiceRequest{Name: name, Backend: backend, Labels: labels}, opt)
	if err != nil {
		addCallError(ctx, c, &resp.Diagnostics, fmt.Sprintf("Could not create service %q", name), err)
		return
	}
	tflog.Info(ctx, "Created Nimbus service", map[string]any{"tenant_id": tenant, "name": name, "generation": svc.Metadata.Generation})

	// From here on the service exists: save it to state even when starting
	// or waiting fails, so Terraform tracks (and can taint) it.
	plan.TenantID = types.StringValue(tenant)
	defer func() {
		plan.setStatus(ctx, svc, &resp.Diagnostics)
		resp.Diagnostics.Append(setServiceState(ctx, &resp.State, &plan)...)
	}()

	if plan.Running.ValueBool() {
		// Generation-checked like every lifecycle call: nothing else may have
		// changed the service since this apply created it.
		gen, ok := svc.Metadata.Generation, false
		if svc, ok = r.step(ctx, c, name, opt, svc, &resp.Diagnostics, fmt.Sprintf("Could not start service %q", name), func() (*api.Service, error) {
			return c.Services.Start(ctx, name, client.ActionOptions{IfMatchGeneration: gen}, opt)
		}); !ok {
			return
		}
		waitUntil := plan.WaitUntil.ValueString()
		if svc, ok = r.step(ctx, c, name, opt, svc, &resp.Diagnostics, fmt.Sprintf("Service %q was created but did not become %s", name, waitUntil), func() (*api.Service, error) {
			return r.wait(ctx, c, name, waitUntil, opt)
		}); !ok {
			return
		}
	}
	svc = r.reread(ctx, c, name, opt, svc)
}

func (r *ServiceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer setIdentity(ctx, resp.Identity, &resp.Diagnostics, "name", &resp.State, &req.State)
	// Every refresh reads every service: the model is converted without
	// the framework's reflection, here and in Create, Update and Delete
	// (resource_service_value.go).
	var state serviceModel
	resp.Diagnostics.Append(getServiceModel(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	name := state.Name.ValueString()
	svc := readRemote(ctx, c, resp, fmt.Sprintf("service %q", name), func() (*api.Service, error) {
		return c.Services.Get(ctx, name, tenantCall(state.TenantID)...)
	})
	if svc == nil {
		return
	}
	state.TenantID = types.StringValue(svc.Metadata.TenantID)
	state.readSpec(ctx, svc, &resp.Diagnostics)
	// The desired state follows what is observed, so a stopped or failed
	// service with running = true in the configuration plans a start.
	state.Running = types.BoolValue(isUp(svc))
	if state.WaitUntil.IsNull() || state.WaitUntil.IsUnknown() {
		state.WaitUntil = types.StringValue(api.WaitReady) // after import
	}
	state.setStatus(ctx, svc, &resp.Diagnostics)
	resp.Diagnostics.Append(setServiceState(ctx, &resp.State, &state)...)
}

func (r *ServiceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer setIdentity(ctx, resp.Identity, &resp.Diagnostics, "name", &resp.State)
	var plan, state, config serviceModel
	resp.Diagnostics.Append(getServiceModel(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(getServiceModel(ctx, req.State.Raw, &state)...)
	resp.Diagnostics.Append(getServiceModel(ctx, req.Config.Raw, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, plan.Timeouts.Update, defaultServiceUpdateTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}

	name := state.Name.ValueString()
	plan.TenantID = state.TenantID
	opt := client.InTenant(state.TenantID.ValueString())
	waitUntil := plan.WaitUntil.ValueString()

	var svc *api.Service
	defer func() {
		if svc == nil {
			return
		}
		plan.setStatus(ctx, svc, &resp.Diagnostics)
		resp.Diagnostics.Append(setServiceState(ctx, &resp.State, &plan)...)
	}()

	// Every mutating call carries a generation: the first the prior state's,
	// each later one the generation the previous call answered. The server
	// rejects a stale one with op.precondition_failed and changes nothing;
	// that is never retried.
	gen := state.Generation.ValueInt64()

	// 1. Spec: PATCH what changed. The backend is sent whole, so its
	// write-only values come again from the configuration (the only place
	// they are): a PATCH for another reason keeps them on the server.
	var upd api.UpdateServiceRequest
	backendChanged := !sameBackend(ctx, plan, state)
	if backendChanged {
		b := plan.backend(ctx, &config, &resp.Diagnostics)
		upd.Backend = &b
	}
	if !plan.Labels.Equal(state.Labels) {
		l := mapFromValue(ctx, plan.Labels, &resp.Diagnostics)
		if l == nil {
			l = map[string]string{}
		}
		upd.Labels = &l
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if upd.Backend != nil || upd.Labels != nil {
		upd.IfMatchGeneration = &gen
		updated, err := c.Services.Update(ctx, name, upd, opt)
		if err != nil {
			addAPIError(&resp.Diagnostics, fmt.Sprintf("Could not update service %q", name), err)
			return
		}
		svc = updated
		gen = svc.Metadata.Generation
		tflog.Info(ctx, "Updated Nimbus service", map[string]any{"name": name, "generation": svc.Metadata.Generation})
	}

	// 2. Desired run state.
	wantUp := plan.Running.ValueBool()
	wasUp := state.Running.ValueBool()
	restart := !plan.RestartTriggers.Equal(state.RestartTriggers)
	// restart_triggers cannot be imported: the first apply after an import
	// records them without restarting the service.
	imported, d := req.Private.GetKey(ctx, privateImported)
	resp.Diagnostics.Append(d...)
	if len(imported) > 0 {
		if state.RestartTriggers.IsNull() {
			restart = false
		}
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, nil)...)
	}
	var what string
	var call func() (*api.Service, error)
	switch {
	case !wantUp && (wasUp || svc == nil || isUp(svc)):
		what, call = "stop", func() (*api.Service, error) {
			return c.Services.Stop(ctx, name, client.ActionOptions{WaitUntil: api.WaitStopped, IfMatchGeneration: gen}, opt)
		}
	case wantUp && !wasUp:
		what, call = "start", func() (*api.Service, error) {
			return c.Services.Start(ctx, name, client.ActionOptions{IfMatchGeneration: gen}, opt)
		}
	case wantUp && restart:
		what, call = "restart", func() (*api.Service, error) {
			return c.Services.Restart(ctx, name, client.ActionOptions{IfMatchGeneration: gen}, opt)
		}
	}
	var ok bool
	if call != nil {
		if svc, ok = r.step(ctx, c, name, opt, svc, &resp.Diagnostics, fmt.Sprintf("Could not %s service %q", what, name), call); !ok {
			return
		}
		if what == "restart" {
			tflog.Info(ctx, "Restarted Nimbus service (restart_triggers changed)", map[string]any{"name": name})
		}
	}

	// 3. Wait: a started, restarted or rolled (backend change) service must
	// reach wait_until for its new generation. A label change alone does
	// not touch the running workload.
	if wantUp && (!wasUp || restart || backendChanged || !plan.WaitUntil.Equal(state.WaitUntil)) {
		if svc, ok = r.step(ctx, c, name, opt, svc, &resp.Diagnostics, fmt.Sprintf("Service %q was updated but did not become %s", name, waitUntil), func() (*api.Service, error) {
			return r.wait(ctx, c, name, waitUntil, opt)
		}); !ok {
			return
		}
	}
	svc = r.reread(ctx, c, name, opt, svc)
	plan.checkPlanned(svc, &resp.Diagnostics)
}

func (r *ServiceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state serviceModel
	resp.Diagnostics.Append(getServiceModel(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, state.Timeouts.Delete, defaultServiceDeleteTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}

	name := state.Name.ValueString()
	opt := client.InTenant(state.TenantID.ValueString())
	// One generation-checked operation: the server checks the generation
	// before it stops anything, so a service changed outside Terraform since
	// the last refresh is refused and left as it is (still running).
	err := c.Services.Delete(ctx, name, client.DeleteOptions{IfMatchGeneration: state.Generation.ValueInt64(), Force: true}, opt)
	if err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, fmt.Sprintf("Could not delete service %q", name), err)
	}
}

// ImportState imports "NAME" (provider's tenant) or "TENANT/NAME". The
// sandbox backend's argv and environment and the external backend's bearer
// token are not returned by the API and cannot be imported.
func (r *ServiceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importResource(ctx, req, resp, "nimbus_service", "name", "web", checkServiceName)
}

// ---------------------------------------------------------------- helpers

// wait waits for waitUntil ("none" returns nil, nil).
func (r *ServiceResource) wait(ctx context.Context, c *client.Client, name, waitUntil string, opt client.CallOption) (*api.Service, error) {
	if waitUntil == waitNone || waitUntil == "" {
		return nil, nil
	}
	return c.Services.Wait(ctx, name, client.WaitOptions{Until: waitUntil}, opt)
}

// step runs one lifecycle call of Create or Update (a start, stop, restart
// or wait). It returns what the call answered, cur when it answered
// nothing (a wait for "none"), and true. On an error it adds a diagnostic
// with summary and returns the service as re-read (cur if that fails too)
// and false: the caller saves that to state and stops.
func (r *ServiceResource) step(ctx context.Context, c *client.Client, name string, opt client.CallOption, cur *api.Service,
	diags *diag.Diagnostics, summary string, call func() (*api.Service, error)) (*api.Service, bool) {
	svc, err := call()
	if err != nil {
		addAPIError(diags, summary, err)
		return r.reread(ctx, c, name, opt, cur), false
	}
	if svc == nil {
		return cur, true
	}
	return svc, true
}

// reread returns the service's current state, or fallback if it cannot be
// read before the operation's deadline (an error there is not worth a
// second diagnostic).
func (r *ServiceResource) reread(ctx context.Context, c *client.Client, name string, opt client.CallOption, fallback *api.Service) *api.Service {
	svc, err := c.Services.Get(ctx, name, opt)
	if err != nil {
		tflog.Warn(ctx, "Could not re-read the Nimbus service", map[string]any{"name": name, "error": err.Error()})
		return fallback
	}
	return svc
}

func isUp(s *api.Service) bool {
	switch s.Status.LifecycleState {
	case api.ServiceRunning, api.ServiceStarting:
		return true
	}
	return false
}

// backend builds the API backend from the plan (or state) m. The write-only
// values (sandbox.environment_wo, external.auth.token_wo) are only in the
// configuration: config supplies them (nil: none, for comparisons).
func (m *serviceModel) backend(ctx context.Context, config *serviceModel, diags *diag.Diagnostics) api.Backend {
	switch {
	case m.Sandbox != nil:
		s := m.Sandbox
		var argv []string
		if !s.Argv.IsNull() && !s.Argv.IsUnknown() {
			diags.Append(s.Argv.ElementsAs(ctx, &argv, false)...)
		}
		env := mapFromValue(ctx, s.Environment, diags)
		if config != nil && config.Sandbox != nil && !config.Sandbox.EnvironmentWO.IsNull() {
			env = mapFromValue(ctx, config.Sandbox.EnvironmentWO, diags)
		}
		return api.Backend{Kind: api.BackendKindSandbox, Sandbox: &api.SandboxSpec{
			Owner:   api.Owner{Kind: api.OwnerKindService, ServiceName: m.Name.ValueString()},
			Backend: s.Backend.ValueString(),
			Root: api.Root{Kind: api.RootKindOCIImage,
				Source: api.RootSource{Kind: api.SourceKindReference, Reference: s.Image.ValueString()}},
			Process: api.Process{Argv: api.RedactableList{Values: argv}, Environment: api.RedactableMap{Values: env}},
		}}
	case m.BuiltIn != nil:
		return api.Backend{Kind: api.BackendKindBuiltIn, Provider: m.BuiltIn.Provider.ValueString()}
	case m.External != nil:
		e := m.External
		b := api.Backend{Kind: api.BackendKindExternal, Endpoint: &api.ExternalEndpoint{URL: e.URL.ValueString()}}
		if !e.HealthPath.IsNull() {
			b.Health = &api.HealthCheck{Kind: api.HealthKindHTTP, Path: e.HealthPath.ValueString()}
		}
		if e.Auth != nil {
			b.Auth = &api.ExternalAuth{Kind: e.Auth.Kind.ValueString()}
			if !e.Auth.Token.IsNull() {
				b.Auth.Token = &api.Secret{Value: e.Auth.Token.ValueString()}
			}
			if config != nil && config.External != nil && config.External.Auth != nil && !config.External.Auth.TokenWO.IsNull() {
				b.Auth.Token = &api.Secret{Value: config.External.Auth.TokenWO.ValueString()}
			}
		}
		return b
	}
	diags.AddError("No service backend", "Set exactly one of sandbox, built_in and external.")
	return api.Backend{}
}

// sameBackend reports whether the planned backend equals the prior one,
// write-only versions included (a version bump re-sends the backend). A
// sandbox argv or environment the state does not hold (null after an import
// or a change outside Terraform) while the plan sets one is sent: what the
// server has is not known.
func sameBackend(ctx context.Context, plan, state serviceModel) bool {
	var d diag.Diagnostics
	a, b := plan.backend(ctx, nil, &d), state.backend(ctx, nil, &d)
	if d.HasError() {
		return false
	}
	if p, s := plan.Sandbox, state.Sandbox; p != nil && s != nil &&
		(s.Argv.IsNull() && !p.Argv.IsNull() || s.Environment.IsNull() && !p.Environment.IsNull()) {
		return false
	}
	pe, pt := plan.writeOnlyVersions()
	se, st := state.writeOnlyVersions()
	return a.Equal(b) && pe.Equal(se) && pt.Equal(st)
}

// writeOnlyVersions returns sandbox.environment_wo_version and
// external.auth.token_wo_version (null where the block is absent).
func (m *serviceModel) writeOnlyVersions() (env, token types.Int64) {
	env, token = types.Int64Null(), types.Int64Null()
	if m.Sandbox != nil {
		env = m.Sandbox.EnvironmentWOVersion
	}
	if m.External != nil && m.External.Auth != nil {
		token = m.External.Auth.TokenWOVersion
	}
	return env, token
}

// readSpec copies the observed spec (name, labels, backend) into m, keeping
// the values the API redacts (sandbox argv and environment, the external
// bearer token) from m.
func (m *serviceModel) readSpec(ctx context.Context, svc *api.Service, diags *diag.Diagnostics) {
	m.Name = types.StringValue(svc.Metadata.Name)
	// No labels on the server keeps a configured null or {} as it is.
	l, d := stringMapValue(svc.Metadata.Labels, m.Labels)
	diags.Append(d...)
	m.Labels = l

	b := svc.Spec.Backend
	prevSandbox, prevExternal := m.Sandbox, m.External
	m.Sandbox, m.BuiltIn, m.External = nil, nil, nil
	switch b.Kind {
	case api.BackendKindSandbox:
		s := &serviceSandboxModel{Argv: types.ListNull(types.StringType), Environment: types.MapNull(types.StringType),
			EnvironmentWO: types.MapNull(types.StringType), EnvironmentWOVersion: types.Int64Null()}
		if b.Sandbox != nil {
			s.Backend = types.StringValue(b.Sandbox.Backend)
			s.Image = types.StringValue(b.Sandbox.Root.Source.Reference)
		}
		if prevSandbox != nil {
			// The API redacts argv and environment but reports how many
			// values they hold: a count that no longer matches the state
			// means they were changed outside Terraform, so drop them from
			// state and let the next plan send the configured ones again.
			// environment_wo is never in state; its version is configuration.
			s.Argv, s.Environment = prevSandbox.Argv, prevSandbox.Environment
			s.EnvironmentWOVersion = prevSandbox.EnvironmentWOVersion
			if p := b.Sandbox; p != nil && p.Process.Argv.Redacted && !s.Argv.IsNull() && len(s.Argv.Elements()) != p.Process.Argv.Count {
				s.Argv = types.ListNull(types.StringType)
			}
			if p := b.Sandbox; p != nil && p.Process.Environment.Redacted && !s.Environment.IsNull() && len(s.Environment.Elements()) != p.Process.Environment.Count {
				s.Environment = types.MapNull(types.StringType)
			}
		}
		m.Sandbox = s
	case api.BackendKindBuiltIn:
		m.BuiltIn = &serviceBuiltInModel{Provider: types.StringValue(b.Provider)}
	case api.BackendKindExternal:
		e := &serviceExternalModel{URL: types.StringNull(), HealthPath: types.StringNull()}
		if b.Endpoint != nil {
			e.URL = types.StringValue(b.Endpoint.URL)
		}
		if b.Health != nil && b.Health.Path != "" {
			// The server's default path "/" stays null when it was not configured.
			if b.Health.Path != "/" || (prevExternal != nil && !prevExternal.HealthPath.IsNull()) {
				e.HealthPath = types.StringValue(b.Health.Path)
			}
		}
		if b.Auth != nil {
			var prevAuth *serviceExternalAuthModel
			if prevExternal != nil {
				prevAuth = prevExternal.Auth
			}
			// Kind "none" is what an absent auth block means: keep it absent.
			if prevAuth != nil || b.Auth.Kind != api.AuthKindNone {
				a := &serviceExternalAuthModel{Kind: types.StringValue(b.Auth.Kind), Token: types.StringNull(),
					TokenWO: types.StringNull(), TokenWOVersion: types.Int64Null()}
				if prevAuth != nil && b.Auth.Kind == api.AuthKindBearer {
					a.Token = prevAuth.Token // redacted by the API
					a.TokenWOVersion = prevAuth.TokenWOVersion
				}
				e.Auth = a
			}
		}
		m.External = e
	}
}

// setStatus copies the server-owned values into m.
func (m *serviceModel) setStatus(ctx context.Context, svc *api.Service, diags *diag.Diagnostics) {
	if svc == nil {
		return
	}
	md, st := svc.Metadata, svc.Status
	m.ID = types.StringValue(md.TenantID + "/" + md.Name)
	m.Generation = types.Int64Value(md.Generation)
	m.ObservedGeneration = types.Int64Value(st.ObservedGeneration)
	m.LifecycleState = types.StringValue(st.LifecycleState)
	m.Readiness = types.StringValue(st.Readiness)
	m.Health = types.StringValue(st.Health)
	m.StatusMessage = types.StringValue(st.Message)
	m.SandboxID = types.StringValue(st.SandboxID)
	m.Conditions = conditionsValue(ctx, st.Conditions, diags)
	eps, d := endpointsValue(st.Endpoints)
	diags.Append(d...)
	m.Endpoints = eps
	m.CreatedAt = rfc3339(md.CreatedAt)
	m.UpdatedAt = rfc3339(md.UpdatedAt)
}

func conditionsValue(ctx context.Context, cs []api.Condition, diags *diag.Diagnostics) types.List {
	elems := make([]attr.Value, 0, len(cs))
	for _, c := range cs {
		o, d := types.ObjectValue(conditionAttrTypes, map[string]attr.Value{
			"type": types.StringValue(c.Type), "status": types.StringValue(c.Status),
			"reason": types.StringValue(c.Reason), "message": types.StringValue(c.Message),
			"observed_generation":  types.Int64Value(c.ObservedGeneration),
			"last_transition_time": rfc3339(c.LastTransitionTime),
		})
		diags.Append(d...)
		elems = append(elems, o)
	}
	l, d := types.ListValue(types.ObjectType{AttrTypes: conditionAttrTypes}, elems)
	diags.Append(d...)
	return l
}

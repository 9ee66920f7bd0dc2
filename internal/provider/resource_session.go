package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

var (
	_ resource.Resource                = &SessionResource{}
	_ resource.ResourceWithConfigure   = &SessionResource{}
	_ resource.ResourceWithImportState = &SessionResource{}
	_ resource.ResourceWithModifyPlan  = &SessionResource{}
)

// sessionCloseReason is the reason Terraform gives when it closes a session.
const sessionCloseReason = "closed by Terraform"

// defaultSessionTTL is the API's default requested TTL.
const defaultSessionTTL = "15m"

// NewSessionResource returns the nimbus_session resource.
func NewSessionResource() resource.Resource { return &SessionResource{} }

// SessionResource manages a Nimbus session: a scoped, expiring connection to
// a running service or sandbox.
type SessionResource struct {
	data *providerData
}

// sessionModel is nimbus_session's state.
type sessionModel struct {
	sessionFields
	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

// targetSnapshotAttrTypes is the object type of target_snapshot.
var targetSnapshotAttrTypes = map[string]attr.Type{
	"kind":         types.StringType,
	"name":         types.StringType,
	"id":           types.StringType,
	"generation":   types.Int64Type,
	"backend_kind": types.StringType,
	"runtime":      types.StringType,
	"provider":     types.StringType,
}

// targetSnapshotDescriptions documents target_snapshot's attributes.
var targetSnapshotDescriptions = map[string]string{
	"kind":         "`service` or `sandbox`.",
	"name":         "Service name (service targets).",
	"id":           "Sandbox id (sandbox targets).",
	"generation":   "Generation of the target when the session was opened.",
	"backend_kind": "The service's backend kind (`sandbox`, `builtIn`, `external`), or `sandbox` for a sandbox target.",
	"runtime":      "`container` or `krun` where the target runs in a sandbox.",
	"provider":     "Built-in provider of a `builtIn` service.",
}

func targetSnapshotValue(ts api.TargetSnapshot) (types.Object, diag.Diagnostics) {
	return types.ObjectValue(targetSnapshotAttrTypes, map[string]attr.Value{
		"kind":         types.StringValue(ts.Kind),
		"name":         stringOrNull(ts.Name),
		"id":           stringOrNull(ts.ID),
		"generation":   types.Int64Value(ts.Generation),
		"backend_kind": types.StringValue(ts.BackendKind),
		"runtime":      stringOrNull(ts.Runtime),
		"provider":     stringOrNull(ts.Provider),
	})
}

func (r *SessionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_session"
}

// sessionChannelsValidators validate the channels set.
func sessionChannelsValidators() []validator.Set {
	return []validator.Set{
		setvalidator.SizeAtLeast(1),
		setvalidator.ValueStringsAre(stringvalidator.OneOf(api.Channels...)),
	}
}

func (r *SessionResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Nimbus session: a scoped, expiring connection to a running service or sandbox.\n\n" +
			"A session that was closed or has expired is removed from state on refresh, so the next apply opens a new one; " +
			"a plan made after `expires_at` already shows the replacement, even without a refresh. Every input forces a new " +
			"session. Destroy closes the session. For a session that should live only during one run, use the " +
			"`nimbus_session` ephemeral resource instead.",
		Attributes: managedSessionAttributes(),
		Blocks: map[string]schema.Block{
			"timeouts": timeoutsBlock(ctx, timeouts.Opts{Create: true, Read: true, Delete: true},
				"How long opening (create) and closing (delete) the session may take. Default 5m each."+readTimeoutDoc),
		},
	}
}

func (r *SessionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan plans a replacement once the provider's clock is past
// expires_at, whether or not a refresh has seen the expiry yet.
func (r *SessionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var expiresAt timetypes.RFC3339
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("expires_at"), &expiresAt)...)
	if resp.Diagnostics.HasError() || expiresAt.IsNull() || expiresAt.IsUnknown() {
		return
	}
	t, d := expiresAt.ValueRFC3339Time()
	resp.Diagnostics.Append(d...)
	// The provider's clock (injected by tests, as terraform-provider-time does).
	if resp.Diagnostics.HasError() || r.data.now().Before(t) {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("expires_at"), timetypes.NewRFC3339Unknown())...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), types.StringUnknown())...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("lifecycle_state"), types.StringUnknown())...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("target_snapshot"), types.ObjectUnknown(targetSnapshotAttrTypes))...)
	resp.RequiresReplace = append(resp.RequiresReplace, path.Root("expires_at"))
}

// Descriptions and validators of the target attributes, shared by the
// managed and the ephemeral session.
const (
	sessionTargetRule             = "Exactly one of `service_name`, `service_id` and `sandbox_id` is required."
	sessionServiceNameDescription = "Name of the running service to attach to (in the session's tenant). " + sessionTargetRule
	sessionServiceIDDescription   = "The running service to attach to, as `TENANT/NAME`: pass a `nimbus_service`'s `id` " +
		"(`nimbus_service.web.id`). Unlike the name, the id is unknown until the service exists, so a session on a service " +
		"created in the same run waits for it (an ephemeral session is opened during apply, not during plan). The session " +
		"opens in the service's tenant; `tenant_id`, if set, must match it. " + sessionTargetRule
	sessionSandboxIDDescription = "Id of the running sandbox to attach to. " + sessionTargetRule
)

func sessionServiceNameValidators() []validator.String {
	return []validator.String{
		stringvalidator.ExactlyOneOf(path.MatchRoot("service_name"), path.MatchRoot("service_id"), path.MatchRoot("sandbox_id")),
		validators.Name(),
	}
}

// splitServiceID parses a nimbus_service id, "TENANT/NAME".
func splitServiceID(id string) (tenant, name string, err error) {
	tenant, name, ok := strings.Cut(id, "/")
	if !ok {
		return "", "", fmt.Errorf("%q is not a service id: use TENANT/NAME, such as the `id` of a nimbus_service (for example \"acme/web\")", id)
	}
	if err := api.ValidateName(tenant); err != nil {
		return "", "", fmt.Errorf("the tenant of service id %q: %w", id, err)
	}
	if err := api.ValidateName(name); err != nil {
		return "", "", fmt.Errorf("the name of service id %q: %w", id, err)
	}
	return tenant, name, nil
}

// serviceIDValidator checks a `service_id` ("TENANT/NAME").
type serviceIDValidator struct{}

func (serviceIDValidator) Description(context.Context) string {
	return "value must be a service id TENANT/NAME, such as a nimbus_service's id"
}

func (v serviceIDValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (serviceIDValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, _, err := splitServiceID(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid service id", err.Error()+".")
	}
}

// sessionTargetUnknown reports whether the target is not known yet (a
// service created in the same run).
func sessionTargetUnknown(serviceName, serviceID, sandboxID types.String) bool {
	return serviceName.IsUnknown() || serviceID.IsUnknown() || sandboxID.IsUnknown()
}

// sessionTenant returns the tenant a session opens in: the tenant of
// service_id when that is set (tenant_id, if also set, must be the same),
// else tenant_id, else the provider's tenant.
func sessionTenant(c *client.Client, tenantID, serviceID types.String, diags *diag.Diagnostics) string {
	if serviceID.IsNull() || serviceID.IsUnknown() {
		return resolveTenant(c, tenantID, diags)
	}
	tenant, _, err := splitServiceID(serviceID.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("service_id"), "Invalid service id", err.Error()+".")
		return ""
	}
	if !tenantID.IsNull() && !tenantID.IsUnknown() && tenantID.ValueString() != "" && tenantID.ValueString() != tenant {
		diags.AddAttributeError(path.Root("tenant_id"), "Conflicting tenants",
			fmt.Sprintf("tenant_id is %q but service_id %q names a service in tenant %q. A session opens in its target's tenant: "+
				"remove tenant_id or make it match.", tenantID.ValueString(), serviceID.ValueString(), tenant))
		return ""
	}
	return tenant
}

// replaceUnlessSameService forces a new session when the service target
// changes, but not when only its spelling does: `service_name = "web"`
// becoming `service_id = "acc/web"` (or back), as after an import, which
// always records the name.
func replaceUnlessSameService() planmodifier.String {
	return stringplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
		var stateTenant types.String
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("tenant_id"), &stateTenant)...)
		target := func(get func(context.Context, path.Path, any) diag.Diagnostics) (string, bool) {
			var name, id, tenant types.String
			resp.Diagnostics.Append(get(ctx, path.Root("service_name"), &name)...)
			resp.Diagnostics.Append(get(ctx, path.Root("service_id"), &id)...)
			resp.Diagnostics.Append(get(ctx, path.Root("tenant_id"), &tenant)...)
			if tenant.IsUnknown() {
				// Not configured: tenant_id keeps its state value
				// (UseStateForUnknown, which may not have run yet).
				tenant = stateTenant
			}
			switch {
			case name.IsUnknown() || id.IsUnknown():
				return "", false
			case !id.IsNull():
				return id.ValueString(), true
			case !name.IsNull() && !tenant.IsNull() && !tenant.IsUnknown():
				return tenant.ValueString() + "/" + name.ValueString(), true
			}
			return "", false
		}
		before, ok1 := target(req.State.GetAttribute)
		after, ok2 := target(req.Plan.GetAttribute)
		resp.RequiresReplace = !ok1 || !ok2 || before != after
	}, "Changing the target service opens a new session.", "Changing the target service opens a new session.")
}

func (r *SessionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer setIdentity(ctx, resp.Identity, &resp.Diagnostics, "id", &resp.State)
	var plan sessionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, plan.Timeouts.Create, defaultSessionOpTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	tenant := sessionTenant(c, plan.TenantID, plan.ServiceID, &resp.Diagnostics)
	oreq := plan.openRequest(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := c.Sessions.Open(ctx, oreq, client.InTenant(tenant))
	if err != nil {
		addCallError(ctx, c, &resp.Diagnostics, "Could not open the session on "+describeTarget(oreq.Target), err)
		return
	}
	plan.TenantID = types.StringValue(tenant)
	plan.setStatus(s, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *SessionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer setIdentity(ctx, resp.Identity, &resp.Diagnostics, "id", &resp.State, &req.State)
	var state sessionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	s := readRemote(ctx, c, resp, "session "+state.ID.ValueString(), func() (*api.Session, error) {
		return c.Sessions.Get(ctx, state.ID.ValueString(), tenantCall(state.TenantID)...)
	})
	if s == nil {
		return
	}
	if s.Status.LifecycleState != api.SessionOpen {
		// Closed or expired: it cannot be reopened. Dropping it from state
		// makes the next plan open a new one.
		tflog.Info(ctx, "Nimbus session is no longer open; removing it from state", map[string]any{
			"id": s.Metadata.ID, "lifecycle_state": s.Status.LifecycleState})
		resp.State.RemoveResource(ctx)
		return
	}
	if state.TenantID.IsNull() || state.TenantID.ValueString() == "" {
		state.TenantID = types.StringValue(s.Metadata.TenantID)
	}
	state.readInputs(ctx, s, &resp.Diagnostics)
	state.setStatus(s, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// defaultSessionOpTimeout bounds opening and closing a session when the
// `timeouts` block does not.
const defaultSessionOpTimeout = 5 * time.Minute

// Update is never called with a change: every input forces a new session.
func (r *SessionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer setIdentity(ctx, resp.Identity, &resp.Diagnostics, "id", &resp.State)
	var plan sessionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *SessionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state sessionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, state.Timeouts.Delete, defaultSessionOpTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	if err := closeSession(ctx, c, state.ID.ValueString(), tenantCall(state.TenantID)); err != nil {
		addCallError(ctx, c, &resp.Diagnostics, fmt.Sprintf("Could not close session %s", state.ID.ValueString()), err)
	}
}

// closeSession closes a session; one that is gone, closed or expired
// already counts as closed.
func closeSession(ctx context.Context, c *client.Client, id string, opts []client.CallOption) error {
	_, err := c.Sessions.Close(ctx, id, sessionCloseReason, opts...)
	switch {
	case err == nil, client.IsNotFound(err):
		return nil
	case client.IsConflict(err):
		s, gerr := c.Sessions.Get(ctx, id, opts...)
		if client.IsNotFound(gerr) || (gerr == nil && s.Status.LifecycleState != api.SessionOpen) {
			return nil
		}
	}
	return err
}

// ImportState imports a session by "ses-…" or "tenant/ses-…".
func (r *SessionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importResource(ctx, req, resp, "nimbus_session", "id", "ses-0123abcd", checkSessionID)
}

// readInputs copies the session's inputs into m. They come back unredacted:
// take them from the server (an import starts from nothing), keeping the
// configured spelling of the ttl. Read and the list resource share it.
func (m *sessionFields) readInputs(ctx context.Context, s *api.Session, diags *diag.Diagnostics) {
	// Inputs come back unredacted: take them from the server (an import
	// starts from nothing), keeping the configured spelling of the ttl.
	// A service target is kept in the form the configuration uses: by id
	// when service_id was set, else (and after an import) by name.
	byID := !m.ServiceID.IsNull()
	m.ServiceName, m.ServiceID, m.SandboxID = types.StringNull(), types.StringNull(), types.StringNull()
	if svc := s.Spec.Target.Service; svc != nil {
		if byID {
			m.ServiceID = types.StringValue(s.Metadata.TenantID + "/" + svc.Name)
		} else {
			m.ServiceName = types.StringValue(svc.Name)
		}
	}
	if s.Spec.Target.Sandbox != nil {
		m.SandboxID = types.StringValue(s.Spec.Target.Sandbox.ID)
	}
	channels, d := types.SetValueFrom(ctx, types.StringType, s.Spec.Channels)
	diags.Append(d...)
	m.Channels = channels
	serverTTL := time.Duration(s.Spec.RequestedTTLMs) * time.Millisecond
	if cur, dd := m.TTL.ValueGoDuration(); m.TTL.IsNull() || dd.HasError() || cur != serverTTL {
		m.TTL = timetypes.NewGoDurationValueFromStringMust(formatDuration(serverTTL))
	}
}

func describeTarget(t api.SessionTarget) string {
	switch {
	case t.Service != nil:
		return fmt.Sprintf("service %q", t.Service.Name)
	case t.Sandbox != nil:
		return fmt.Sprintf("sandbox %s", t.Sandbox.ID)
	}
	return "(no target)"
}

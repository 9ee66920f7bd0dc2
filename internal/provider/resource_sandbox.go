package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/planmodifiers"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

var (
	_ resource.Resource                = &SandboxResource{}
	_ resource.ResourceWithConfigure   = &SandboxResource{}
	_ resource.ResourceWithImportState = &SandboxResource{}
)

// NewSandboxResource returns the nimbus_sandbox resource.
func NewSandboxResource() resource.Resource { return &SandboxResource{} }

// SandboxResource manages a standalone Nimbus sandbox.
type SandboxResource struct {
	data *providerData
}

// sandboxModel is nimbus_sandbox's state.
type sandboxModel struct {
	ID                   types.String      `tfsdk:"id"`
	TenantID             types.String      `tfsdk:"tenant_id"`
	Profile              types.String      `tfsdk:"profile"`
	DisplayName          types.String      `tfsdk:"display_name"`
	Backend              types.String      `tfsdk:"backend"`
	Image                types.String      `tfsdk:"image"`
	Argv                 types.List        `tfsdk:"argv"`
	Environment          types.Map         `tfsdk:"environment"`
	EnvironmentWO        types.Map         `tfsdk:"environment_wo"`
	EnvironmentWOVersion types.Int64       `tfsdk:"environment_wo_version"`
	Labels               types.Map         `tfsdk:"labels"`
	LifecycleState       types.String      `tfsdk:"lifecycle_state"`
	Message              types.String      `tfsdk:"message"`
	Endpoints            types.List        `tfsdk:"endpoints"`
	OwnerKind            types.String      `tfsdk:"owner_kind"`
	Generation           types.Int64       `tfsdk:"generation"`
	CreatedAt            timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt            timetypes.RFC3339 `tfsdk:"updated_at"`
	Timeouts             timeouts.Value    `tfsdk:"timeouts"`
}

// privateLaunchCounts is the private-state key holding how many argv values
// and environment entries the server reports (it never returns the values).
// After an import the configured values are adopted without replacement
// when their counts match.
const privateLaunchCounts = "launch_counts"

type launchCounts struct {
	Argv int `json:"argv"`
	Env  int `json:"env"`
}

func (r *SandboxResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_sandbox"
}

func (r *SandboxResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A standalone Nimbus sandbox: an isolated execution environment running one process from an OCI image. " +
			"Create waits until the sandbox is `running`; a sandbox that fails to start ends the apply with the server's message. " +
			"Every launch input forces a new sandbox; `labels` change in place.\n\n" +
			"The API never returns `argv` or `environment` (it reports only how many values there are), so Terraform keeps the " +
			"configured values in state. Use `environment_wo` to keep environment secrets out of state on CLIs that support " +
			"write-only attributes (Terraform 1.11+, OpenTofu 1.11+).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Server-generated sandbox id (`sbx-…`).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Tenant of the sandbox. Defaults to the provider's tenant. Changing it creates a new sandbox.",
				Validators:          []validator.String{validators.Name()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()},
			},
			"profile": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.ProfileWorker),
				MarkdownDescription: "Sandbox profile: `worker` (default) or `desktop`.",
				Validators:          []validator.String{stringvalidator.OneOf(api.ProfileWorker, api.ProfileDesktop)},
				PlanModifiers:       replace,
			},
			"display_name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Display name of the sandbox's (standalone) owner, at most 253 characters.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 253)},
				PlanModifiers:       replace,
			},
			"backend": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.RuntimeContainer),
				MarkdownDescription: "Isolation backend: `container` (default) or `krun`.",
				Validators:          []validator.String{stringvalidator.OneOf(api.RuntimeContainer, api.RuntimeKrun)},
				PlanModifiers:       replace,
			},
			"image": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "OCI image reference of the root filesystem, e.g. `docker.io/library/alpine:3`.",
				Validators:          []validator.String{validators.ImageReference()},
				PlanModifiers:       replace,
			},
			"argv": schema.ListAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Command and arguments of the sandbox process. The API never returns them: state keeps the " +
					"configured values and import cannot recover them.",
				PlanModifiers: []planmodifier.List{listplanmodifier.RequiresReplaceIf(launchInputReplaceList,
					"Changing argv creates a new sandbox.", "Changing `argv` creates a new sandbox.")},
			},
			"environment": schema.MapAttribute{
				Optional:    true,
				Sensitive:   true,
				ElementType: types.StringType,
				MarkdownDescription: "Environment of the sandbox process. Sensitive; the API never returns it: state keeps the " +
					"configured values and import cannot recover them. Conflicts with `environment_wo`.",
				Validators: []validator.Map{mapvalidator.ConflictsWith(path.MatchRoot("environment_wo")), validators.EnvironmentNames()},
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplaceIf(launchInputReplaceMap,
					"Changing environment creates a new sandbox.", "Changing `environment` creates a new sandbox.")},
			},
			"environment_wo": schema.MapAttribute{
				Optional:    true,
				Sensitive:   true,
				WriteOnly:   true,
				ElementType: types.StringType,
				MarkdownDescription: "Write-only environment of the sandbox process: sent at create time, never stored in plan or " +
					"state. Requires Terraform 1.11+ or OpenTofu 1.11+. Terraform cannot see changes to it: bump " +
					"`environment_wo_version` to create a new sandbox with new values. Conflicts with `environment`.",
				Validators: []validator.Map{mapvalidator.ConflictsWith(path.MatchRoot("environment")), validators.EnvironmentNames()},
			},
			"environment_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Version of `environment_wo`; changing it creates a new sandbox with the current `environment_wo`.",
				Validators:          []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("environment_wo"))},
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"labels": schema.MapAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Labels (at most 64). Updated in place with a generation-checked update.",
				Validators:          []validator.Map{validators.Labels()},
			},
			"lifecycle_state": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Lifecycle state: `running` after apply. A sandbox found stopped or failed " +
					"(for example stopped outside Terraform) is planned for replacement.",
				// Planned running; a sandbox found stopping, stopped or failed
				// cannot be started again, so it is replaced. One still on its
				// way up is updated in place (the update waits until it runs).
				PlanModifiers: []planmodifier.String{planmodifiers.DesiredState(api.SandboxRunning,
					api.SandboxRunning, api.SandboxPending, api.SandboxStarting)},
			},
			"message": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The server's explanation of the current state, if any. Unknown in update plans.",
			},
			"endpoints": schema.ListAttribute{
				Computed:    true,
				ElementType: types.ObjectType{AttrTypes: endpointAttrTypes},
				MarkdownDescription: "Where the running sandbox can be reached: a list of `{name, url}`. Kept in update plans " +
					"while the sandbox is running; unknown while it is still pending or starting.",
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"owner_kind": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Owner kind; always `standalone` for this resource.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"generation": schema.Int64Attribute{
				Computed: true,
				MarkdownDescription: "Generation of the sandbox; +1 on every label change. An update plan shows it unknown " +
					"only when labels change.",
			},
			"created_at": schema.StringAttribute{
				Computed:            true,
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: "Creation time (RFC 3339).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				Computed:            true,
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: "Time of the last change (RFC 3339). Unknown in update plans.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeoutsBlock(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true},
				"How long create (create and wait until running), update (labels; waits for a sandbox that is still starting) "+
					"and delete (one generation-checked forced delete, which stops a running sandbox) may take. Default 10m each."+readTimeoutDoc),
		},
	}
}

func (r *SandboxResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *SandboxResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer setIdentity(ctx, resp.Identity, &resp.Diagnostics, "id", &resp.State)
	var plan, config sandboxModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, plan.Timeouts.Create, defaultSandboxTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	tenant := resolveTenant(c, plan.TenantID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}

	env := mapFromValue(ctx, plan.Environment, &resp.Diagnostics)
	if !config.EnvironmentWO.IsNull() {
		// Write-only: only the configuration carries it.
		env = mapFromValue(ctx, config.EnvironmentWO, &resp.Diagnostics)
	}
	var argv []string
	if !plan.Argv.IsNull() {
		resp.Diagnostics.Append(plan.Argv.ElementsAs(ctx, &argv, false)...)
	}
	labels := mapFromValue(ctx, plan.Labels, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	creq := api.CreateSandboxRequest{
		Profile: plan.Profile.ValueString(),
		Spec: api.SandboxSpec{
			Owner:   api.Owner{Kind: api.OwnerKindStandalone, DisplayName: plan.DisplayName.ValueString()},
			Backend: plan.Backend.ValueString(),
			Root: api.Root{Kind: api.RootKindOCIImage, Source: api.RootSource{
				Kind: api.SourceKindReference, Reference: plan.Image.ValueString(),
			}},
			Process: api.Process{
				Argv:        api.RedactableList{Values: argv},
				Environment: api.RedactableMap{Values: env},
			},
		},
		Labels: labels,
	}
	opt := client.InTenant(tenant)
	sb, err := c.Sandboxes.Create(ctx, creq, opt)
	if err != nil {
		addCallError(ctx, c, &resp.Diagnostics, "Could not create the sandbox", err)
		return
	}
	plan.TenantID = types.StringValue(tenant)
	// Record the sandbox at once: if the wait fails, Terraform keeps it as
	// tainted and replaces it on the next apply instead of leaking it.
	r.setState(ctx, &plan, sb, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setLaunchCounts(ctx, resp.Private, sb)...)

	sb, err = c.Sandboxes.Wait(ctx, sb.Metadata.ID, client.WaitOptions{Until: api.WaitRunning}, opt)
	if err != nil {
		addAPIError(&resp.Diagnostics, fmt.Sprintf("Sandbox %s did not start", plan.ID.ValueString()), err)
		return
	}
	r.setState(ctx, &plan, sb, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *SandboxResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer setIdentity(ctx, resp.Identity, &resp.Diagnostics, "id", &resp.State, &req.State)
	var state sandboxModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	sb := readRemote(ctx, c, resp, "sandbox "+state.ID.ValueString(), func() (*api.Sandbox, error) {
		return c.Sandboxes.Get(ctx, state.ID.ValueString(), tenantCall(state.TenantID)...)
	})
	if sb == nil {
		return
	}
	if sb.Spec.Owner.Kind == api.OwnerKindService {
		resp.Diagnostics.AddError("Sandbox is owned by a service",
			fmt.Sprintf("Sandbox %s belongs to service %q: Nimbus starts, stops and deletes it with that service. "+
				"Manage the service with a nimbus_service resource instead (import it by name), and read the sandbox "+
				"with the nimbus_sandbox data source if you need its attributes.", sb.Metadata.ID, sb.Spec.Owner.ServiceName))
		return
	}
	if state.TenantID.IsNull() || state.TenantID.ValueString() == "" {
		state.TenantID = types.StringValue(sb.Metadata.TenantID)
	}
	r.setState(ctx, &state, sb, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setLaunchCounts(ctx, resp.Private, sb)...)
}

func (r *SandboxResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer setIdentity(ctx, resp.Identity, &resp.Diagnostics, "id", &resp.State)
	var plan, state sandboxModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c := clientFor(ctx, r.data, &resp.Diagnostics)
	if c == nil {
		return
	}
	opts := tenantCall(state.TenantID)
	var sb *api.Sandbox
	var err error
	if !plan.Labels.Equal(state.Labels) {
		labels := mapFromValue(ctx, plan.Labels, &resp.Diagnostics)
		if labels == nil {
			labels = map[string]string{}
		}
		if resp.Diagnostics.HasError() {
			return
		}
		gen := state.Generation.ValueInt64()
		sb, err = c.Sandboxes.Update(ctx, state.ID.ValueString(), api.UpdateSandboxRequest{
			Labels: &labels, IfMatchGeneration: &gen,
		}, opts...)
		if err != nil {
			addAPIError(&resp.Diagnostics, fmt.Sprintf("Could not update the labels of sandbox %s", state.ID.ValueString()), err)
			return
		}
	} else {
		// Only timeouts, or launch inputs adopted after an import, changed.
		sb, err = c.Sandboxes.Get(ctx, state.ID.ValueString(), opts...)
		if err != nil {
			addAPIError(&resp.Diagnostics, fmt.Sprintf("Could not read sandbox %s", state.ID.ValueString()), err)
			return
		}
	}
	if sb.Status.LifecycleState != api.SandboxRunning {
		// Planned as running (the plan modifier replaces stopped or failed
		// sandboxes): a pending or starting one gets there within the update
		// timeout, a failure ends the wait with the server's message.
		wctx, cancel := operationContext(ctx, plan.Timeouts.Update, defaultSandboxTimeout, &resp.Diagnostics)
		defer cancel()
		if resp.Diagnostics.HasError() {
			return
		}
		sb, err = c.Sandboxes.Wait(wctx, state.ID.ValueString(), client.WaitOptions{Until: api.WaitRunning}, opts...)
		if err != nil {
			addAPIError(&resp.Diagnostics, fmt.Sprintf("Sandbox %s did not start", state.ID.ValueString()), err)
			return
		}
	}
	plan.TenantID = state.TenantID
	plan.checkPlanned(sb, &resp.Diagnostics)
	r.setState(ctx, &plan, sb, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setLaunchCounts(ctx, resp.Private, sb)...)
	// The configuration's argv and environment are in state now.
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, nil)...)
}

func (r *SandboxResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state sandboxModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, c, cancel := beginCall(ctx, r.data, state.Timeouts.Delete, defaultSandboxTimeout, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	id := state.ID.ValueString()
	opts := tenantCall(state.TenantID)

	// One generation-checked operation: the server checks the generation
	// before it stops anything, so a sandbox changed outside Terraform since
	// the last refresh is refused and keeps running.
	gen := state.Generation.ValueInt64()
	err := c.Sandboxes.Delete(ctx, id, client.SandboxDeleteOptions{IfMatchGeneration: gen, Force: true}, opts...)
	if err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, fmt.Sprintf("Could not delete sandbox %s", id), err)
	}
}

// ImportState imports a sandbox by "sbx-…" or "tenant/sbx-…". argv and
// environment cannot be recovered: the API redacts them.
func (r *SandboxResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	// argv and environment are unknown from here on (importByID marks the
	// state as imported): the next plan adopts the configured values when
	// their counts match the server's.
	importResource(ctx, req, resp, "nimbus_sandbox", "id", "sbx-0123abcd", checkSandboxID)
}

// setState copies the server's view into m. Launch inputs (argv,
// environment) and tenant are kept as they are: the API redacts them.
func (r *SandboxResource) setState(ctx context.Context, m *sandboxModel, sb *api.Sandbox, diags *diag.Diagnostics) {
	m.ID = types.StringValue(sb.Metadata.ID)
	m.Profile = types.StringValue(sb.Spec.Profile)
	m.DisplayName = stringOrNull(sb.Spec.Owner.DisplayName)
	m.Backend = types.StringValue(sb.Spec.Backend)
	m.Image = types.StringValue(sb.Spec.Root.Source.Reference)
	m.LifecycleState = types.StringValue(sb.Status.LifecycleState)
	m.Message = types.StringValue(sb.Status.Message)
	m.OwnerKind = types.StringValue(sb.Spec.Owner.Kind)
	m.Generation = types.Int64Value(sb.Metadata.Generation)
	m.CreatedAt = rfc3339(sb.Metadata.CreatedAt)
	m.UpdatedAt = rfc3339(sb.Metadata.UpdatedAt)
	labels, d := stringMapValue(sb.Metadata.Labels, m.Labels)
	diags.Append(d...)
	m.Labels = labels
	eps, d := endpointsValue(sb.Status.Endpoints)
	diags.Append(d...)
	m.Endpoints = eps
	if m.Argv.IsUnknown() {
		m.Argv = types.ListNull(types.StringType)
	}
	if m.Environment.IsUnknown() {
		m.Environment = types.MapNull(types.StringType)
	}
	m.EnvironmentWO = types.MapNull(types.StringType)
}

// privateSetter is the part of private state the CRUD responses expose.
type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

func setLaunchCounts(ctx context.Context, p privateSetter, sb *api.Sandbox) diag.Diagnostics {
	if p == nil {
		return nil
	}
	b, err := json.Marshal(launchCounts{Argv: sb.Spec.Process.Argv.Len(), Env: sb.Spec.Process.Environment.Len()})
	if err != nil {
		var d diag.Diagnostics
		d.AddError("Could not record the sandbox's launch input counts",
			"This is a bug in the Nimbus provider; please report it. Until it is fixed, an import of this sandbox "+
				"may plan a replacement. Error: "+err.Error())
		return d
	}
	return p.SetKey(ctx, privateLaunchCounts, b)
}

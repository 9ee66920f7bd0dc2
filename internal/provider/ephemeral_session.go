package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

var (
	_ ephemeral.EphemeralResource              = &SessionEphemeralResource{}
	_ ephemeral.EphemeralResourceWithConfigure = &SessionEphemeralResource{}
	_ ephemeral.EphemeralResourceWithClose     = &SessionEphemeralResource{}
)

// NewSessionEphemeralResource returns the nimbus_session ephemeral resource.
func NewSessionEphemeralResource() ephemeral.EphemeralResource { return &SessionEphemeralResource{} }

// SessionEphemeralResource opens a session for the length of one Terraform
// run and closes it at the end; nothing reaches plan or state.
type SessionEphemeralResource struct {
	data *providerData
}

// sessionEphemeralModel is the ephemeral session's result.
type sessionEphemeralModel struct {
	ID             types.String         `tfsdk:"id"`
	TenantID       types.String         `tfsdk:"tenant_id"`
	ServiceName    types.String         `tfsdk:"service_name"`
	ServiceID      types.String         `tfsdk:"service_id"`
	SandboxID      types.String         `tfsdk:"sandbox_id"`
	Channels       types.Set            `tfsdk:"channels"`
	TTL            timetypes.GoDuration `tfsdk:"ttl"`
	ExpiresAt      timetypes.RFC3339    `tfsdk:"expires_at"`
	LifecycleState types.String         `tfsdk:"lifecycle_state"`
	TargetSnapshot types.Object         `tfsdk:"target_snapshot"`
}

// privateEphemeralSession is the private key holding what Close needs.
const privateEphemeralSession = "session"

type ephemeralSessionRef struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
}

func (e *SessionEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_session"
}

func (e *SessionEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	snapshotAttrs := map[string]schema.Attribute{}
	for name, typ := range targetSnapshotAttrTypes {
		if typ == types.Int64Type {
			snapshotAttrs[name] = schema.Int64Attribute{Computed: true, MarkdownDescription: targetSnapshotDescriptions[name]}
		} else {
			snapshotAttrs[name] = schema.StringAttribute{Computed: true, MarkdownDescription: targetSnapshotDescriptions[name]}
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Opens a Nimbus session for the length of one Terraform run and closes it when the run ends " +
			"(reason `closed by Terraform`). Nothing is stored in plan or state. Requires Terraform 1.10+ or OpenTofu 1.11+.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Session id (`ses-…`).",
			},
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Tenant of the session. Defaults to the provider's tenant.",
				Validators:          []validator.String{validators.Name()},
			},
			"service_name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: sessionServiceNameDescription,
				Validators:          sessionServiceNameValidators(),
			},
			"service_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: sessionServiceIDDescription,
				Validators:          []validator.String{serviceIDValidator{}},
			},
			"sandbox_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: sessionSandboxIDDescription,
				Validators:          []validator.String{validators.SandboxID()},
			},
			"channels": schema.SetAttribute{
				Required:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Channels to open: one or more of `stdio`, `cdp`, `page`, `files`.",
				Validators:          sessionChannelsValidators(),
			},
			"ttl": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				CustomType:          timetypes.GoDurationType{},
				MarkdownDescription: "Requested lifetime as a duration such as `90s` or `15m`, between `1s` and `24h` (default `15m`).",
				Validators:          []validator.String{validators.DurationBetween(time.Millisecond*api.MinSessionTTLMs, time.Millisecond*api.MaxSessionTTLMs)},
			},
			"expires_at": schema.StringAttribute{
				Computed:            true,
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: "When the server expires the session (RFC 3339).",
			},
			"lifecycle_state": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Lifecycle state at open time (`open`).",
			},
			"target_snapshot": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "What the session attached to, pinned at open time.",
				Attributes:          snapshotAttrs,
			},
		},
	}
}

func (e *SessionEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

func (e *SessionEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m sessionEphemeralModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if sessionTargetUnknown(m.ServiceName, m.ServiceID, m.SandboxID) {
		// The target is created in this run (service_id = nimbus_service.x.id
		// is unknown until then). Terraform and OpenTofu do not open an
		// ephemeral resource whose configuration is not known; should one
		// ask anyway, defer where the CLI allows it, else return unknown
		// values and open nothing.
		if req.ClientCapabilities.DeferralAllowed {
			resp.Deferred = &ephemeral.Deferred{Reason: ephemeral.DeferredReasonEphemeralResourceConfigUnknown}
			return
		}
		m.ID, m.LifecycleState = types.StringUnknown(), types.StringUnknown()
		if m.TenantID.IsNull() {
			m.TenantID = types.StringUnknown()
		}
		m.ExpiresAt = timetypes.NewRFC3339Unknown()
		m.TargetSnapshot = types.ObjectUnknown(targetSnapshotAttrTypes)
		if m.TTL.IsNull() {
			m.TTL = timetypes.NewGoDurationUnknown()
		}
		resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
		return
	}
	c := clientFor(ctx, e.data, &resp.Diagnostics)
	if c == nil {
		return
	}
	tenant := sessionTenant(c, m.TenantID, m.ServiceID, &resp.Diagnostics)
	oreq := openSessionRequest(ctx, m.ServiceName, m.ServiceID, m.SandboxID, m.Channels, m.TTL, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := c.Sessions.Open(ctx, oreq, client.InTenant(tenant))
	if client.IsNotFound(err) && !m.ServiceName.IsNull() {
		// Most often a service this configuration creates: its name is
		// known at plan time, so the session is opened before it exists.
		resp.Diagnostics.AddAttributeError(path.Root("service_name"),
			fmt.Sprintf("Could not open the session on service %q: the service does not exist", m.ServiceName.ValueString()),
			fmt.Sprintf("Tenant %q has no service %q. If this configuration creates the service, name it by its id instead: "+
				"`service_id = nimbus_service.<name>.id`. The id is unknown until the service exists, so the session is opened "+
				"during apply, after the service is created, instead of during plan.\n\n%s", tenant, m.ServiceName.ValueString(), err))
		return
	}
	if err != nil {
		addCallError(ctx, c, &resp.Diagnostics, "Could not open the session on "+describeTarget(oreq.Target), err)
		return
	}
	ref, err := json.Marshal(ephemeralSessionRef{ID: s.Metadata.ID, Tenant: tenant})
	if err != nil {
		resp.Diagnostics.AddError("Could not record the session for closing",
			"This is a bug in the Nimbus provider; please report it. The session is closed again now. Error: "+err.Error())
		if cerr := closeSession(ctx, c, s.Metadata.ID, []client.CallOption{client.InTenant(tenant)}); cerr != nil {
			addCallError(ctx, c, &resp.Diagnostics, fmt.Sprintf("Could not close session %s", s.Metadata.ID), cerr)
		}
		return
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateEphemeralSession, ref)...)

	m.ID = types.StringValue(s.Metadata.ID)
	m.TenantID = types.StringValue(tenant)
	m.ExpiresAt = rfc3339(s.Spec.ExpiresAt)
	m.LifecycleState = types.StringValue(s.Status.LifecycleState)
	if m.TTL.IsNull() {
		m.TTL = timetypes.NewGoDurationValueFromStringMust(formatDuration(time.Duration(s.Spec.RequestedTTLMs) * time.Millisecond))
	}
	ts, d := targetSnapshotValue(s.Spec.TargetSnapshot)
	resp.Diagnostics.Append(d...)
	m.TargetSnapshot = ts
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}

func (e *SessionEphemeralResource) Close(ctx context.Context, req ephemeral.CloseRequest, resp *ephemeral.CloseResponse) {
	raw, d := req.Private.GetKey(ctx, privateEphemeralSession)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() || len(raw) == 0 {
		return
	}
	var ref ephemeralSessionRef
	if err := json.Unmarshal(raw, &ref); err != nil {
		resp.Diagnostics.AddError("Could not close the session",
			"The ephemeral session's private data could not be decoded ("+err.Error()+"); the session stays open until it expires.")
		return
	}
	c := clientFor(ctx, e.data, &resp.Diagnostics)
	if c == nil {
		return
	}
	if err := closeSession(ctx, c, ref.ID, []client.CallOption{client.InTenant(ref.Tenant)}); err != nil {
		addCallError(ctx, c, &resp.Diagnostics, fmt.Sprintf("Could not close session %s", ref.ID), err)
	}
}

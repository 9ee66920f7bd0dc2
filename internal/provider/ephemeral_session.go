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
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
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
	resp.Schema = schema.Schema{
		MarkdownDescription: "Opens a Nimbus session for the length of one Terraform run and closes it when the run ends " +
			"(reason `closed by Terraform`). Nothing is stored in plan or state. Requires Terraform 1.10+ or OpenTofu 1.11+.",
		Attributes: ephemeralSessionAttributes(),
	}
}

func (e *SessionEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

func (e *SessionEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m sessionFields
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
	oreq := m.openRequest(ctx, &resp.Diagnostics)
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

	m.TenantID = types.StringValue(tenant)
	if m.TTL.IsNull() {
		m.TTL = timetypes.NewGoDurationValueFromStringMust(formatDuration(time.Duration(s.Spec.RequestedTTLMs) * time.Millisecond))
	}
	m.setStatus(s, &resp.Diagnostics)
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

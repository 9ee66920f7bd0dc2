package provider

import (
	"context"
	"slices"
	"time"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

var _ datasource.DataSourceWithConfigure = &SessionDataSource{}

// sessionDataAttrTypes are the attributes describing one session in both
// data sources.
var sessionDataAttrTypes = map[string]attr.Type{
	"id":              types.StringType,
	"tenant_id":       types.StringType,
	"service_name":    types.StringType,
	"sandbox_id":      types.StringType,
	"channels":        types.SetType{ElemType: types.StringType},
	"ttl":             timetypes.GoDurationType{},
	"expires_at":      timetypes.RFC3339Type{},
	"lifecycle_state": types.StringType,
	"close_reason":    types.StringType,
	"closed_at":       timetypes.RFC3339Type{},
	"labels":          types.MapType{ElemType: types.StringType},
	"target_snapshot": types.ObjectType{AttrTypes: targetSnapshotAttrTypes},
	"created_at":      timetypes.RFC3339Type{},
}

var sessionDataDescriptions = map[string]string{
	"id":              "Session id (`ses-…`).",
	"tenant_id":       "Tenant of the session.",
	"service_name":    "Target service, for a session on a service.",
	"sandbox_id":      "Target sandbox, for a session on a sandbox.",
	"channels":        "Open channels.",
	"ttl":             "Requested lifetime.",
	"expires_at":      "When the server expires the session (RFC 3339).",
	"lifecycle_state": "`open`, `closed` or `expired`.",
	"close_reason":    "Why a closed session was closed.",
	"closed_at":       "When the session was closed (RFC 3339).",
	"labels":          "Labels.",
	"target_snapshot": "What the session attached to, pinned at open time.",
	"created_at":      "When the session was opened (RFC 3339).",
}

func sessionDataSchemaAttrs(skip ...string) map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for name := range sessionDataAttrTypes {
		if slices.Contains(skip, name) {
			continue
		}
		desc := sessionDataDescriptions[name]
		switch name {
		case "channels":
			out[name] = schema.SetAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
		case "labels":
			out[name] = schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
		case "ttl":
			out[name] = schema.StringAttribute{Computed: true, CustomType: timetypes.GoDurationType{}, MarkdownDescription: desc}
		case "expires_at", "closed_at", "created_at":
			out[name] = schema.StringAttribute{Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: desc}
		case "target_snapshot":
			attrs := snapshotAttributes(
				func(doc string) schema.Attribute {
					return schema.Int64Attribute{Computed: true, MarkdownDescription: doc}
				},
				func(doc string) schema.Attribute {
					return schema.StringAttribute{Computed: true, MarkdownDescription: doc}
				})
			out[name] = schema.SingleNestedAttribute{Computed: true, Attributes: attrs, MarkdownDescription: desc}
		default:
			out[name] = schema.StringAttribute{Computed: true, MarkdownDescription: desc}
		}
	}
	return out
}

// sessionInfoModel is one session in both data sources (the attributes of
// sessionDataAttrTypes).
type sessionInfoModel struct {
	ID             types.String         `tfsdk:"id"`
	TenantID       types.String         `tfsdk:"tenant_id"`
	ServiceName    types.String         `tfsdk:"service_name"`
	SandboxID      types.String         `tfsdk:"sandbox_id"`
	Channels       types.Set            `tfsdk:"channels"`
	TTL            timetypes.GoDuration `tfsdk:"ttl"`
	ExpiresAt      timetypes.RFC3339    `tfsdk:"expires_at"`
	LifecycleState types.String         `tfsdk:"lifecycle_state"`
	CloseReason    types.String         `tfsdk:"close_reason"`
	ClosedAt       timetypes.RFC3339    `tfsdk:"closed_at"`
	Labels         types.Map            `tfsdk:"labels"`
	TargetSnapshot types.Object         `tfsdk:"target_snapshot"`
	CreatedAt      timetypes.RFC3339    `tfsdk:"created_at"`
}

// sessionInfo converts a session to the data sources' model.
func sessionInfo(s *api.Session, diags *diag.Diagnostics) sessionInfoModel {
	channels, d := types.SetValueFrom(context.Background(), types.StringType, s.Spec.Channels)
	diags.Append(d...)
	labels, d := stringMapValue(s.Metadata.Labels, types.MapNull(types.StringType))
	diags.Append(d...)
	ts, d := targetSnapshotValue(s.Spec.TargetSnapshot)
	diags.Append(d...)
	m := sessionInfoModel{
		ID:             types.StringValue(s.Metadata.ID),
		TenantID:       types.StringValue(s.Metadata.TenantID),
		ServiceName:    types.StringNull(),
		SandboxID:      types.StringNull(),
		Channels:       channels,
		TTL:            timetypes.NewGoDurationValueFromStringMust(formatDuration(time.Duration(s.Spec.RequestedTTLMs) * time.Millisecond)),
		ExpiresAt:      rfc3339(s.Spec.ExpiresAt),
		LifecycleState: types.StringValue(s.Status.LifecycleState),
		CloseReason:    stringOrNull(s.Status.CloseReason),
		ClosedAt:       timetypes.NewRFC3339Null(),
		Labels:         labels,
		TargetSnapshot: ts,
		CreatedAt:      rfc3339(s.Metadata.CreatedAt),
	}
	if s.Spec.Target.Service != nil {
		m.ServiceName = types.StringValue(s.Spec.Target.Service.Name)
	}
	if s.Spec.Target.Sandbox != nil {
		m.SandboxID = types.StringValue(s.Spec.Target.Sandbox.ID)
	}
	if s.Status.ClosedAt != nil {
		m.ClosedAt = rfc3339(*s.Status.ClosedAt)
	}
	return m
}

// sessionDataSourceModel is nimbus_session's data: one session and the
// `timeouts` block.
type sessionDataSourceModel struct {
	sessionInfoModel
	Timeouts dstimeouts.Value `tfsdk:"timeouts"`
}

// ------------------------------------------------------------ nimbus_session

// NewSessionDataSource returns the nimbus_session data source.
func NewSessionDataSource() datasource.DataSource {
	return &SessionDataSource{dataSourceBase{suffix: "_session"}}
}

// SessionDataSource reads one session by id.
type SessionDataSource struct{ dataSourceBase }

func (d *SessionDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := sessionDataSchemaAttrs("id", "tenant_id")
	attrs["id"] = schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "Id of the session (`ses-…`).",
		Validators:          []validator.String{validators.SessionID()},
	}
	attrs["tenant_id"] = dataSourceTenantAttr("Tenant of the session.")
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one Nimbus session by id, in any state (`open`, `closed` or `expired`).",
		Attributes:          attrs,
		Blocks:              map[string]schema.Block{"timeouts": dataSourceTimeoutsBlock(ctx, "the session")},
	}
}

func (d *SessionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	readByID(ctx, req, resp, d.data, "session",
		func(c *client.Client) getFunc[api.Session] { return c.Sessions.Get },
		func(s *api.Session, m *sessionDataSourceModel, diags *diag.Diagnostics) {
			m.sessionInfoModel = sessionInfo(s, diags)
		})
}

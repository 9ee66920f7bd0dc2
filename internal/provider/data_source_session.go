package provider

import (
	"context"
	"time"

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
outer:
	for name := range sessionDataAttrTypes {
		for _, s := range skip {
			if s == name {
				continue outer
			}
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

func sessionDataValues(s *api.Session) (map[string]attr.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	channels, d := types.SetValueFrom(context.Background(), types.StringType, s.Spec.Channels)
	diags.Append(d...)
	labels := types.MapNull(types.StringType)
	if len(s.Metadata.Labels) > 0 {
		l, d := types.MapValueFrom(context.Background(), types.StringType, s.Metadata.Labels)
		diags.Append(d...)
		labels = l
	}
	ts, d := targetSnapshotValue(s.Spec.TargetSnapshot)
	diags.Append(d...)
	serviceName, sandboxID := types.StringNull(), types.StringNull()
	if s.Spec.Target.Service != nil {
		serviceName = types.StringValue(s.Spec.Target.Service.Name)
	}
	if s.Spec.Target.Sandbox != nil {
		sandboxID = types.StringValue(s.Spec.Target.Sandbox.ID)
	}
	closedAt := timetypes.NewRFC3339Null()
	if s.Status.ClosedAt != nil {
		closedAt = rfc3339(*s.Status.ClosedAt)
	}
	return map[string]attr.Value{
		"id":              types.StringValue(s.Metadata.ID),
		"tenant_id":       types.StringValue(s.Metadata.TenantID),
		"service_name":    serviceName,
		"sandbox_id":      sandboxID,
		"channels":        channels,
		"ttl":             timetypes.NewGoDurationValueFromStringMust(formatDuration(time.Duration(s.Spec.RequestedTTLMs) * time.Millisecond)),
		"expires_at":      rfc3339(s.Spec.ExpiresAt),
		"lifecycle_state": types.StringValue(s.Status.LifecycleState),
		"close_reason":    stringOrNull(s.Status.CloseReason),
		"closed_at":       closedAt,
		"labels":          labels,
		"target_snapshot": ts,
		"created_at":      rfc3339(s.Metadata.CreatedAt),
	}, diags
}

// ------------------------------------------------------------ nimbus_session

// NewSessionDataSource returns the nimbus_session data source.
func NewSessionDataSource() datasource.DataSource { return &SessionDataSource{} }

// SessionDataSource reads one session by id.
type SessionDataSource struct {
	data *providerData
}

func (d *SessionDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_session"
}

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

func (d *SessionDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

func (d *SessionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	readByID(ctx, req, resp, d.data, "session",
		func(c *client.Client) getFunc[api.Session] { return c.Sessions.Get }, sessionDataValues)
}

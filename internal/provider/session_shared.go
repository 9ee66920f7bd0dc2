package provider

// What the managed and the ephemeral nimbus_session share: the model, the
// attributes and the open request.

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	eschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

// sessionFields are the attributes of both nimbus_session resources; the
// managed one adds `timeouts` (sessionModel), the ephemeral one has exactly
// these.
type sessionFields struct {
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

// sessionAttribute is one attribute of sessionFields, described once. The
// plan modifiers and default apply to the managed resource only.
type sessionAttribute struct {
	doc string
	// ephemeralDoc replaces doc for the ephemeral resource.
	ephemeralDoc                 string
	required, optional, computed bool
	// Exactly one kind: a string (of stringType, if set), a set of strings
	// (set) or the target snapshot (snapshot).
	stringType    basetypes.StringTypable
	set, snapshot bool
	validators    []validator.String
	setValidators []validator.Set

	modifiers       []planmodifier.String
	setModifiers    []planmodifier.Set
	objectModifiers []planmodifier.Object
	stringDefault   defaults.String
}

// sessionAttributes describes sessionFields. Every input forces a new
// session; the computed values are kept from the state.
func sessionAttributes() map[string]sessionAttribute {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	return map[string]sessionAttribute{
		"id": {computed: true, doc: "Server-generated session id (`ses-…`).", modifiers: keep},
		"tenant_id": {optional: true, computed: true, doc: "Tenant of the session. Defaults to the provider's tenant.",
			validators: []validator.String{validators.Name()},
			modifiers:  []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()}},
		"service_name": {optional: true, doc: sessionServiceNameDescription, validators: sessionServiceNameValidators(),
			modifiers: []planmodifier.String{replaceUnlessSameService()}},
		"service_id": {optional: true, doc: sessionServiceIDDescription, validators: []validator.String{serviceIDValidator{}},
			modifiers: []planmodifier.String{replaceUnlessSameService()}},
		"sandbox_id": {optional: true, doc: sessionSandboxIDDescription, validators: []validator.String{validators.SandboxID()},
			modifiers: replace},
		"channels": {required: true, set: true, doc: "Channels to open: one or more of `stdio`, `cdp`, `page`, `files`.",
			setValidators: sessionChannelsValidators(), setModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()}},
		"ttl": {optional: true, computed: true, stringType: timetypes.GoDurationType{},
			doc:        "Requested lifetime as a duration such as `90s`, `15m` or `2h`, between `1s` and `24h` (default `15m`).",
			validators: []validator.String{validators.DurationBetween(time.Millisecond*api.MinSessionTTLMs, time.Millisecond*api.MaxSessionTTLMs)},
			modifiers:  replace, stringDefault: stringdefault.StaticString(defaultSessionTTL)},
		"expires_at": {computed: true, stringType: timetypes.RFC3339Type{}, doc: "When the server expires the session (RFC 3339).",
			modifiers: keep},
		"lifecycle_state": {computed: true, doc: "Lifecycle state: `open` while Terraform manages it.",
			ephemeralDoc: "Lifecycle state at open time (`open`).", modifiers: keep},
		"target_snapshot": {computed: true, snapshot: true, doc: "What the session attached to, pinned at open time.",
			objectModifiers: []planmodifier.Object{objectplanmodifier.UseStateForUnknown()}},
	}
}

// managedSessionAttributes is the managed nimbus_session's schema, without
// the timeouts block.
func managedSessionAttributes() map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for name, a := range sessionAttributes() {
		switch {
		case a.set:
			out[name] = schema.SetAttribute{Required: a.required, Optional: a.optional, Computed: a.computed,
				ElementType: types.StringType, MarkdownDescription: a.doc, Validators: a.setValidators, PlanModifiers: a.setModifiers}
		case a.snapshot:
			attrs := snapshotAttributes(
				func(doc string) schema.Attribute {
					return schema.Int64Attribute{Computed: true, MarkdownDescription: doc}
				},
				func(doc string) schema.Attribute {
					return schema.StringAttribute{Computed: true, MarkdownDescription: doc}
				})
			out[name] = schema.SingleNestedAttribute{Computed: true, MarkdownDescription: a.doc, Attributes: attrs,
				PlanModifiers: a.objectModifiers}
		default:
			out[name] = schema.StringAttribute{Required: a.required, Optional: a.optional, Computed: a.computed,
				CustomType: a.stringType, MarkdownDescription: a.doc, Validators: a.validators,
				PlanModifiers: a.modifiers, Default: a.stringDefault}
		}
	}
	return out
}

// ephemeralSessionAttributes is the ephemeral nimbus_session's schema.
func ephemeralSessionAttributes() map[string]eschema.Attribute {
	out := map[string]eschema.Attribute{}
	for name, a := range sessionAttributes() {
		doc := a.doc
		if a.ephemeralDoc != "" {
			doc = a.ephemeralDoc
		}
		switch {
		case a.set:
			out[name] = eschema.SetAttribute{Required: a.required, Optional: a.optional, Computed: a.computed,
				ElementType: types.StringType, MarkdownDescription: doc, Validators: a.setValidators}
		case a.snapshot:
			attrs := snapshotAttributes(
				func(doc string) eschema.Attribute {
					return eschema.Int64Attribute{Computed: true, MarkdownDescription: doc}
				},
				func(doc string) eschema.Attribute {
					return eschema.StringAttribute{Computed: true, MarkdownDescription: doc}
				})
			out[name] = eschema.SingleNestedAttribute{Computed: true, MarkdownDescription: doc, Attributes: attrs}
		default:
			out[name] = eschema.StringAttribute{Required: a.required, Optional: a.optional, Computed: a.computed,
				CustomType: a.stringType, MarkdownDescription: doc, Validators: a.validators}
		}
	}
	return out
}

// snapshotAttributes builds target_snapshot's attributes in any schema
// package, from the integer and the string attribute constructors.
func snapshotAttributes[A any](int64Attr, stringAttr func(doc string) A) map[string]A {
	out := map[string]A{}
	for name, typ := range targetSnapshotAttrTypes {
		if typ == types.Int64Type {
			out[name] = int64Attr(targetSnapshotDescriptions[name])
		} else {
			out[name] = stringAttr(targetSnapshotDescriptions[name])
		}
	}
	return out
}

// openRequest builds the open request of m's target, channels and ttl.
func (m *sessionFields) openRequest(ctx context.Context, diags *diag.Diagnostics) api.OpenSessionRequest {
	var req api.OpenSessionRequest
	switch {
	case !m.ServiceName.IsNull():
		req.Target.Service = &api.ServiceRef{Name: m.ServiceName.ValueString()}
	case !m.ServiceID.IsNull():
		if _, name, err := splitServiceID(m.ServiceID.ValueString()); err == nil {
			req.Target.Service = &api.ServiceRef{Name: name}
		} else {
			diags.AddAttributeError(path.Root("service_id"), "Invalid service id", err.Error()+".")
		}
	case !m.SandboxID.IsNull():
		req.Target.Sandbox = &api.SandboxRef{ID: m.SandboxID.ValueString()}
	}
	req.Channels = sortedStrings(ctx, m.Channels, diags)
	if !m.TTL.IsNull() && !m.TTL.IsUnknown() {
		d, dd := m.TTL.ValueGoDuration()
		diags.Append(dd...)
		req.RequestedTTLMs = d.Milliseconds()
	}
	return req
}

// setStatus copies the server-owned values into m.
func (m *sessionFields) setStatus(s *api.Session, diags *diag.Diagnostics) {
	m.ID = types.StringValue(s.Metadata.ID)
	m.ExpiresAt = rfc3339(s.Spec.ExpiresAt)
	m.LifecycleState = types.StringValue(s.Status.LifecycleState)
	ts, d := targetSnapshotValue(s.Spec.TargetSnapshot)
	diags.Append(d...)
	m.TargetSnapshot = ts
}

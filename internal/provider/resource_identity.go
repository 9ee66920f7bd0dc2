package provider

// Resource identity (Terraform 1.12+, OpenTofu 1.12+) for nimbus_service
// (tenant_id, name), nimbus_sandbox (tenant_id, id) and nimbus_session
// (tenant_id, id). Identity is a function of the state: every Create, Read
// and Update ends by deriving it from the state it wrote (setIdentity), so
// it is there on every CLI the framework talks to (older CLIs simply do not
// store it). The list resources build the same identity for each listed
// object, and ImportState accepts an `import { identity = { … } }` block as
// well as an import ID.

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

var (
	_ resource.ResourceWithIdentity = (*ServiceResource)(nil)
	_ resource.ResourceWithIdentity = (*SandboxResource)(nil)
	_ resource.ResourceWithIdentity = (*SessionResource)(nil)
)

// objectIdentity is the identity of one Nimbus object: its tenant and its
// name (services) or id (sandboxes, sessions). idAttr says which.
type objectIdentity struct {
	idAttr   string
	TenantID string
	ID       string
}

// serviceIdentityModel and idIdentityModel are the identity schemas' models.
type serviceIdentityModel struct {
	TenantID types.String `tfsdk:"tenant_id"`
	Name     types.String `tfsdk:"name"`
}

type idIdentityModel struct {
	TenantID types.String `tfsdk:"tenant_id"`
	ID       types.String `tfsdk:"id"`
}

// model returns the identity's model for tfsdk Set ("" tenant = null).
func (o objectIdentity) model() any {
	tenant := stringOrNull(o.TenantID)
	if o.idAttr == "name" {
		return serviceIdentityModel{TenantID: tenant, Name: types.StringValue(o.ID)}
	}
	return idIdentityModel{TenantID: tenant, ID: types.StringValue(o.ID)}
}

// identitySchema is the identity schema of a kind whose identifier is idAttr.
func identitySchema(kind, idAttr, idDescription string) identityschema.Schema {
	return identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"tenant_id": identityschema.StringAttribute{
				OptionalForImport: true,
				Description:       "Tenant of the " + kind + ". Defaults to the provider's tenant when importing.",
			},
			idAttr: identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       idDescription,
			},
		},
	}
}

func (r *ServiceResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identitySchema("service", "name", "Name of the service.")
}

func (r *SandboxResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identitySchema("sandbox", "id", "Id of the sandbox (`sbx-…`).")
}

func (r *SessionResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identitySchema("session", "id", "Id of the session (`ses-…`).")
}

// setIdentity derives the identity (tenant_id and idAttr) from the first of
// states that is not null: the response's state, then (for a Read that
// removed the object) the prior state, since the framework wants an
// identity after every Read without an error. Create, Read and Update defer
// it first thing, so it runs after the state is final; without any state
// or identifier the identity is left as it is.
func setIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, diags *diag.Diagnostics, idAttr string, states ...*tfsdk.State) {
	if identity == nil {
		return
	}
	for _, state := range states {
		if state == nil || state.Raw.IsNull() {
			continue
		}
		var tenant, id types.String
		d := state.GetAttribute(ctx, path.Root("tenant_id"), &tenant)
		d.Append(state.GetAttribute(ctx, path.Root(idAttr), &id)...)
		if d.HasError() {
			diags.Append(d...)
			return
		}
		if id.IsNull() || id.IsUnknown() || id.ValueString() == "" {
			return
		}
		// A tenant not known yet (an import without one that found
		// nothing) stays null.
		o := objectIdentity{idAttr: idAttr, TenantID: tenant.ValueString(), ID: id.ValueString()}
		diags.Append(identity.Set(ctx, o.model())...)
		return
	}
}

// importResource is the ImportState of every resource: an import ID ("ID"
// or "TENANT/ID", see importByID) or an identity ({tenant_id, name|id};
// tenant_id defaults to the provider's tenant).
func importResource(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse,
	kind, idAttr, example string, check func(string) error) {
	if req.ID != "" || req.Identity == nil || req.Identity.Raw.IsNull() {
		importByID(ctx, req, resp, kind, idAttr, example, check)
		return
	}
	var tenant, id types.String
	resp.Diagnostics.Append(req.Identity.GetAttribute(ctx, path.Root("tenant_id"), &tenant)...)
	resp.Diagnostics.Append(req.Identity.GetAttribute(ctx, path.Root(idAttr), &id)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := check(id.ValueString())
	if err == nil && tenant.ValueString() != "" {
		if terr := api.ValidateName(tenant.ValueString()); terr != nil {
			err = fmt.Errorf("tenant_id: %w", terr)
		}
	}
	if err != nil {
		resp.Diagnostics.AddError("Invalid import identity",
			fmt.Sprintf("Import a %s by identity with %s (and optionally tenant_id), such as identity = { %s = %q }: %s.",
				kind, idAttr, idAttr, example, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(idAttr), id)...)
	if tenant.ValueString() != "" {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("tenant_id"), tenant)...)
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, []byte("true"))...)
}

// Per-kind checks of the identifier, shared by import and the list resources.
func checkServiceName(name string) error { return api.ValidateName(name) }

func checkSandboxID(id string) error {
	if !api.ValidSandboxID(id) {
		return fmt.Errorf("%q is not a sandbox ID: sandbox IDs look like sbx-0123abcd", id)
	}
	return nil
}

func checkSessionID(id string) error {
	if !api.ValidSessionID(id) {
		return fmt.Errorf("%q is not a session ID: session IDs look like ses-0123abcd", id)
	}
	return nil
}

package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

// TestTenantIDValidated: every resource, data source, ephemeral resource,
// list resource and action has a tenant_id checked with the API's rule
// (validators.Name), so a malformed tenant fails at plan time everywhere.
func TestTenantIDValidated(t *testing.T) {
	ctx := context.Background()
	want := validators.Name().Description(ctx)
	check := func(name string, a any, ok bool) {
		t.Helper()
		sv, isString := a.(interface{ StringValidators() []validator.String })
		if !ok || !isString {
			t.Errorf("%s: no string tenant_id attribute", name)
			return
		}
		for _, v := range sv.StringValidators() {
			if v.Description(ctx) == want {
				return
			}
		}
		t.Errorf("%s: tenant_id is not checked with validators.Name()", name)
	}
	for _, f := range resourceTypes {
		r := f()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "nimbus"}, &md)
		var resp resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &resp)
		a, ok := resp.Schema.Attributes["tenant_id"]
		check("resource "+md.TypeName, a, ok)
	}
	for _, f := range dataSourceTypes {
		d := f()
		var md datasource.MetadataResponse
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "nimbus"}, &md)
		var resp datasource.SchemaResponse
		d.Schema(ctx, datasource.SchemaRequest{}, &resp)
		a, ok := resp.Schema.Attributes["tenant_id"]
		check("data source "+md.TypeName, a, ok)
	}
	for _, f := range ephemeralResourceTypes {
		e := f()
		var md ephemeral.MetadataResponse
		e.Metadata(ctx, ephemeral.MetadataRequest{ProviderTypeName: "nimbus"}, &md)
		var resp ephemeral.SchemaResponse
		e.Schema(ctx, ephemeral.SchemaRequest{}, &resp)
		a, ok := resp.Schema.Attributes["tenant_id"]
		check("ephemeral resource "+md.TypeName, a, ok)
	}
	for _, f := range listResourceTypes {
		l := f()
		var md resource.MetadataResponse
		l.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "nimbus"}, &md)
		var resp list.ListResourceSchemaResponse
		l.ListResourceConfigSchema(ctx, list.ListResourceSchemaRequest{}, &resp)
		a, ok := resp.Schema.Attributes["tenant_id"]
		check("list resource "+md.TypeName, a, ok)
	}
	for _, f := range actionTypes {
		x := f()
		var md action.MetadataResponse
		x.Metadata(ctx, action.MetadataRequest{ProviderTypeName: "nimbus"}, &md)
		var resp action.SchemaResponse
		x.Schema(ctx, action.SchemaRequest{}, &resp)
		a, ok := resp.Schema.Attributes["tenant_id"]
		check("action "+md.TypeName, a, ok)
	}
}

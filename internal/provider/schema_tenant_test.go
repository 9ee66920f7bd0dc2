package provider

import (
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
	ctx := t.Context()
	want := validators.Name().Description(ctx)
	check := func(name string, a any) {
		t.Helper()
		sv, isString := a.(interface{ StringValidators() []validator.String })
		if !isString {
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
	// One entry per type: its name and its tenant_id attribute (nil if none).
	var got []struct {
		name string
		attr any
	}
	add := func(kind, typeName string, a any) {
		got = append(got, struct {
			name string
			attr any
		}{kind + " " + typeName, a})
	}
	p := "nimbus"
	for _, f := range resourceTypes {
		var md resource.MetadataResponse
		var s resource.SchemaResponse
		r := f()
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: p}, &md)
		r.Schema(ctx, resource.SchemaRequest{}, &s)
		add("resource", md.TypeName, s.Schema.Attributes["tenant_id"])
	}
	for _, f := range dataSourceTypes {
		var md datasource.MetadataResponse
		var s datasource.SchemaResponse
		d := f()
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: p}, &md)
		d.Schema(ctx, datasource.SchemaRequest{}, &s)
		add("data source", md.TypeName, s.Schema.Attributes["tenant_id"])
	}
	for _, f := range ephemeralResourceTypes {
		var md ephemeral.MetadataResponse
		var s ephemeral.SchemaResponse
		e := f()
		e.Metadata(ctx, ephemeral.MetadataRequest{ProviderTypeName: p}, &md)
		e.Schema(ctx, ephemeral.SchemaRequest{}, &s)
		add("ephemeral resource", md.TypeName, s.Schema.Attributes["tenant_id"])
	}
	for _, f := range listResourceTypes {
		var md resource.MetadataResponse
		var s list.ListResourceSchemaResponse
		l := f()
		l.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: p}, &md)
		l.ListResourceConfigSchema(ctx, list.ListResourceSchemaRequest{}, &s)
		add("list resource", md.TypeName, s.Schema.Attributes["tenant_id"])
	}
	for _, f := range actionTypes {
		var md action.MetadataResponse
		var s action.SchemaResponse
		x := f()
		x.Metadata(ctx, action.MetadataRequest{ProviderTypeName: p}, &md)
		x.Schema(ctx, action.SchemaRequest{}, &s)
		add("action", md.TypeName, s.Schema.Attributes["tenant_id"])
	}
	for _, g := range got {
		check(g.name, g.attr)
	}
}

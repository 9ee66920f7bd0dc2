package provider

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestSchemaDescriptions fails on any attribute or block of the provider,
// a resource, a data source or an ephemeral resource without a description
// (the docs are generated from them).
func TestSchemaDescriptions(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("schema diagnostic: %s: %s", d.Summary, d.Detail)
	}
	var missing []string
	check := func(kind, name string, s *tfprotov6.Schema) {
		if s == nil || s.Block == nil {
			missing = append(missing, kind+" "+name+": no schema")
			return
		}
		if kind != "provider" && strings.TrimSpace(s.Block.Description) == "" {
			missing = append(missing, kind+" "+name)
		}
		walkBlock(kind+" "+name, s.Block, &missing)
	}
	check("provider", "nimbus", resp.Provider)
	for n, s := range resp.ResourceSchemas {
		check("resource", n, s)
	}
	for n, s := range resp.DataSourceSchemas {
		check("data source", n, s)
	}
	for n, s := range resp.EphemeralResourceSchemas {
		check("ephemeral resource", n, s)
	}
	if len(resp.ResourceSchemas) == 0 || len(resp.DataSourceSchemas) == 0 {
		t.Fatalf("expected resources and data sources, got %d and %d", len(resp.ResourceSchemas), len(resp.DataSourceSchemas))
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("missing description: %s", m)
	}
}

func walkBlock(prefix string, b *tfprotov6.SchemaBlock, missing *[]string) {
	for _, a := range b.Attributes {
		walkAttr(prefix, a, missing)
	}
	for _, nb := range b.BlockTypes {
		p := prefix + "." + nb.TypeName
		if nb.Block == nil || strings.TrimSpace(nb.Block.Description) == "" {
			*missing = append(*missing, p+" (block)")
		}
		if nb.Block != nil {
			walkBlock(p, nb.Block, missing)
		}
	}
}

func walkAttr(prefix string, a *tfprotov6.SchemaAttribute, missing *[]string) {
	p := prefix + "." + a.Name
	if strings.TrimSpace(a.Description) == "" {
		*missing = append(*missing, p)
	}
	if a.NestedType != nil {
		for _, na := range a.NestedType.Attributes {
			walkAttr(p, na, missing)
		}
	}
}

// TestExamples fails when a resource, data source or ephemeral resource has
// no example for the docs, or an importable resource has no import.sh (the
// check terraform-provider-tfe runs in CI).
func TestExamples(t *testing.T) {
	ctx := t.Context()
	p := New("test")()
	var meta provider.MetadataResponse
	p.Metadata(ctx, provider.MetadataRequest{}, &meta)
	name := func(f func(*string)) string {
		var n string
		f(&n)
		return n
	}
	must := func(path string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join("..", "..", "examples", path)); err != nil {
			t.Errorf("missing example: examples/%s", path)
		}
	}
	for _, newR := range p.Resources(ctx) {
		r := newR()
		typ := name(func(n *string) {
			var resp resource.MetadataResponse
			r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &resp)
			*n = resp.TypeName
		})
		must(filepath.Join("resources", typ, "resource.tf"))
		if _, ok := r.(resource.ResourceWithImportState); ok {
			must(filepath.Join("resources", typ, "import.sh"))
		}
	}
	for _, newD := range p.DataSources(ctx) {
		typ := name(func(n *string) {
			var resp datasource.MetadataResponse
			newD().Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: meta.TypeName}, &resp)
			*n = resp.TypeName
		})
		must(filepath.Join("data-sources", typ, "data-source.tf"))
	}
	pe, ok := p.(provider.ProviderWithEphemeralResources)
	if !ok {
		t.Fatal("the provider has no ephemeral resources")
	}
	for _, newE := range pe.EphemeralResources(ctx) {
		typ := name(func(n *string) {
			var resp ephemeral.MetadataResponse
			newE().Metadata(ctx, ephemeral.MetadataRequest{ProviderTypeName: meta.TypeName}, &resp)
			*n = resp.TypeName
		})
		must(filepath.Join("ephemeral-resources", typ, "ephemeral-resource.tf"))
	}
	must(filepath.Join("provider", "provider.tf"))
}

// TestServerOwnedAttributesComputedOnly: values the server owns can never be
// set in a configuration (Computed, not Optional), and the values that
// change on every update carry no UseStateForUnknown, so an update plan
// shows them unknown instead of a stale value.
func TestServerOwnedAttributesComputedOnly(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	serverOwned := map[string][]string{
		"nimbus_service": {"id", "generation", "observed_generation", "lifecycle_state", "readiness", "health",
			"status_message", "sandbox_id", "conditions", "endpoints", "created_at", "updated_at"},
		"nimbus_sandbox": {"id", "lifecycle_state", "message", "endpoints", "owner_kind", "generation", "created_at", "updated_at"},
		"nimbus_session": {"id", "expires_at", "lifecycle_state", "target_snapshot"},
	}
	for typ, names := range serverOwned {
		s := resp.ResourceSchemas[typ]
		if s == nil {
			t.Errorf("no schema for %s", typ)
			continue
		}
		attrs := map[string]*tfprotov6.SchemaAttribute{}
		for _, a := range s.Block.Attributes {
			attrs[a.Name] = a
		}
		for _, n := range names {
			a := attrs[n]
			switch {
			case a == nil:
				t.Errorf("%s has no attribute %s", typ, n)
			case !a.Computed || a.Optional || a.Required:
				t.Errorf("%s.%s is server-owned: want Computed only, got computed=%v optional=%v required=%v",
					typ, n, a.Computed, a.Optional, a.Required)
			}
		}
	}
	// Values every update changes: no UseStateForUnknown (checked on the
	// framework schemas, where plan modifiers live).
	ctx := t.Context()
	for _, tc := range []struct {
		r     resource.Resource
		attrs []string
	}{
		{NewServiceResource(), []string{"generation", "observed_generation", "updated_at", "lifecycle_state", "readiness", "health", "conditions"}},
		{NewSandboxResource(), []string{"generation", "updated_at"}},
	} {
		var sr resource.SchemaResponse
		tc.r.Schema(ctx, resource.SchemaRequest{}, &sr)
		for _, n := range tc.attrs {
			if mods := planModifierCount(sr.Schema.Attributes[n]); mods != 0 {
				t.Errorf("%T.%s changes on update but has %d plan modifier(s) (stale values in update plans)", tc.r, n, mods)
			}
		}
	}
}

func planModifierCount(a rschema.Attribute) int {
	switch a := a.(type) {
	case rschema.Int64Attribute:
		return len(a.PlanModifiers)
	case rschema.StringAttribute:
		return len(a.PlanModifiers)
	case rschema.ListNestedAttribute:
		return len(a.PlanModifiers)
	case rschema.ListAttribute:
		return len(a.PlanModifiers)
	}
	return -1
}

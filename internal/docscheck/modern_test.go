package docscheck

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/action"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/nimbus/terraform-provider-nimbus/internal/provider"
)

// TestActionsAndListResourcesDocumented checks that every action and list
// resource has the example tfplugindocs embeds
// (examples/actions/<type>/action.tf,
// examples/list-resources/<type>/list-resource.tfquery.hcl) and a template
// of its own, and that every resource with an identity has an
// import-by-identity.tf example. (Their generated pages are checked by
// TestTemplatesAndPages once `make docs` has generated them.)
func TestActionsAndListResourcesDocumented(t *testing.T) {
	ctx := t.Context()
	p := provider.New("test")()
	var found int
	if pa, ok := p.(fwprovider.ProviderWithActions); ok {
		for _, f := range pa.Actions(ctx) {
			var m action.MetadataResponse
			f().Metadata(ctx, action.MetadataRequest{ProviderTypeName: providerName}, &m)
			checkDocumented(t, "actions", m.TypeName, "action.tf")
			found++
		}
	}
	if pl, ok := p.(fwprovider.ProviderWithListResources); ok {
		for _, f := range pl.ListResources(ctx) {
			var m resource.MetadataResponse
			f().Metadata(ctx, resource.MetadataRequest{ProviderTypeName: providerName}, &m)
			checkDocumented(t, "list-resources", m.TypeName, "list-resource.tfquery.hcl")
			found++
		}
	}
	if found != 8 {
		t.Errorf("found %d actions and list resources, want 5 + 3", found)
	}
	for _, f := range p.Resources(ctx) {
		r := f()
		if _, ok := r.(resource.ResourceWithIdentity); !ok {
			continue
		}
		var m resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: providerName}, &m)
		if ex := filepath.Join("examples", "resources", m.TypeName, "import-by-identity.tf"); !exists(ex) {
			t.Errorf("resource %s has an identity but no %s", m.TypeName, ex)
		}
	}
}

func checkDocumented(t *testing.T, kind, name, example string) {
	t.Helper()
	if ex := filepath.Join("examples", kind, name, example); !exists(ex) {
		t.Errorf("%s %s: missing example %s", kind, name, ex)
	}
	short := strings.TrimPrefix(name, providerName+"_")
	if tmpl := filepath.Join("templates", kind, short+".md.tmpl"); !exists(tmpl) {
		t.Errorf("%s %s: missing template %s", kind, name, tmpl)
	}
}

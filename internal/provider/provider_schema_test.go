package provider

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
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
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
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

package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestSchemaMarkdownDescriptions: every description the provider writes is
// a MarkdownDescription (the docs are Markdown). The timeouts blocks come
// from terraform-plugin-framework-timeouts, which writes plain text.
func TestSchemaMarkdownDescriptions(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, b *tfprotov6.SchemaBlock)
	var walkAttr func(prefix string, a *tfprotov6.SchemaAttribute)
	walkAttr = func(p string, a *tfprotov6.SchemaAttribute) {
		if a.Description != "" && a.DescriptionKind != tfprotov6.StringKindMarkdown {
			t.Errorf("%s: plain-text Description; use MarkdownDescription", p)
		}
		if a.NestedType != nil {
			for _, na := range a.NestedType.Attributes {
				walkAttr(p+"."+na.Name, na)
			}
		}
	}
	walk = func(p string, b *tfprotov6.SchemaBlock) {
		if b.Description != "" && b.DescriptionKind != tfprotov6.StringKindMarkdown {
			t.Errorf("%s: plain-text Description; use MarkdownDescription", p)
		}
		for _, a := range b.Attributes {
			walkAttr(p+"."+a.Name, a)
		}
		for _, nb := range b.BlockTypes {
			if nb.TypeName != "timeouts" {
				walk(p+"."+nb.TypeName, nb.Block)
			}
		}
	}
	walk("provider", resp.Provider.Block)
	for _, m := range []map[string]*tfprotov6.Schema{resp.ResourceSchemas, resp.DataSourceSchemas,
		resp.EphemeralResourceSchemas, resp.ListResourceSchemas} {
		for n, s := range m {
			walk(n, s.Block)
		}
	}
	for n, s := range resp.ActionSchemas {
		walk("action "+n, s.Schema.Block)
	}
}

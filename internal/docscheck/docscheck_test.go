package docscheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"gopkg.in/yaml.v3"

	"github.com/nimbus/terraform-provider-nimbus/internal/provider"
)

// root is the repository root, relative to this package's directory (the
// working directory of its tests).
const root = "../.."

const providerName = "nimbus"

// schemas are the schemas the provider serves: of the provider, its
// resources, data sources, ephemeral and list resources and actions, and
// the resources' identity schemas.
func schemas(t *testing.T) (*tfprotov6.GetProviderSchemaResponse, *tfprotov6.GetResourceIdentitySchemasResponse) {
	t.Helper()
	server, err := providerserver.NewProtocol6WithError(provider.New("test")())()
	if err != nil {
		t.Fatalf("starting the provider server: %v", err)
	}
	resp, err := server.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatalf("GetProviderSchema: %v", err)
	}
	failOnDiags(t, "GetProviderSchema", resp.Diagnostics)
	ids, err := server.GetResourceIdentitySchemas(t.Context(), &tfprotov6.GetResourceIdentitySchemasRequest{})
	if err != nil {
		t.Fatalf("GetResourceIdentitySchemas: %v", err)
	}
	failOnDiags(t, "GetResourceIdentitySchemas", ids.Diagnostics)
	return resp, ids
}

// failOnDiags fails on any diagnostic, warnings included: a schema the
// provider serves has none.
func failOnDiags(t *testing.T, what string, diags []*tfprotov6.Diagnostic) {
	t.Helper()
	for _, d := range diags {
		t.Errorf("%s: %s diagnostic: %s: %s", what, d.Severity, d.Summary, d.Detail)
	}
	if len(diags) > 0 {
		t.FailNow()
	}
}

// TestSchemaDescriptions fails on any provider, resource, data source,
// ephemeral resource, list resource or action — or any attribute or block
// in them, however deeply nested, or any identity attribute — without a
// description (the generated docs show them), and on a schema or attribute
// with a plain-text one (the docs are Markdown).
func TestSchemaDescriptions(t *testing.T) {
	resp, ids := schemas(t)
	var missing []string
	check := func(what string, s *tfprotov6.Schema, needOwn bool) {
		if s == nil || s.Block == nil {
			missing = append(missing, what+": no schema")
			return
		}
		if needOwn && strings.TrimSpace(s.Block.Description) == "" {
			missing = append(missing, what+" itself")
		}
		if s.Block.Description != "" && s.Block.DescriptionKind != tfprotov6.StringKindMarkdown {
			missing = append(missing, what+" itself (plain-text Description: use MarkdownDescription)")
		}
		missing = append(missing, undescribedInBlock(what, s.Block)...)
	}
	check("provider", resp.Provider, false)
	for name, s := range resp.ResourceSchemas {
		check("resource "+name, s, true)
	}
	for name, s := range resp.DataSourceSchemas {
		check("data source "+name, s, true)
	}
	for name, s := range resp.EphemeralResourceSchemas {
		check("ephemeral resource "+name, s, true)
	}
	for name, s := range resp.ListResourceSchemas {
		check("list resource "+name, s, true)
	}
	for name, s := range resp.ActionSchemas {
		check("action "+name, s.Schema, true)
	}
	for name, s := range ids.IdentitySchemas {
		for _, a := range s.IdentityAttributes {
			if strings.TrimSpace(a.Description) == "" {
				missing = append(missing, "resource "+name+" identity."+a.Name)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no description: %s", m)
	}
	for kind, n := range map[string]int{
		"resources": len(resp.ResourceSchemas), "data sources": len(resp.DataSourceSchemas),
		"ephemeral resources": len(resp.EphemeralResourceSchemas), "list resources": len(resp.ListResourceSchemas),
		"actions": len(resp.ActionSchemas),
	} {
		if n == 0 {
			t.Errorf("the provider has no %s: the check proved nothing for them", kind)
		}
	}
}

func undescribedInBlock(prefix string, b *tfprotov6.SchemaBlock) []string {
	var out []string
	for _, a := range b.Attributes {
		p := prefix + "." + a.Name
		out = append(out, undescribedAttr(prefix, p, a)...)
		if a.NestedType != nil {
			out = append(out, undescribedInNested(p, a.NestedType)...)
		}
	}
	for _, nb := range b.BlockTypes {
		p := prefix + "." + nb.TypeName
		if nb.Block == nil || strings.TrimSpace(nb.Block.Description) == "" {
			out = append(out, p+" (block)")
		}
		if nb.Block != nil {
			out = append(out, undescribedInBlock(p, nb.Block)...)
		}
	}
	return out
}

// undescribedAttr reports the attribute at p (in prefix) without a
// description, or with a plain-text one: the docs are Markdown, so
// MarkdownDescription everywhere, except in the timeouts blocks
// terraform-plugin-framework-timeouts writes.
func undescribedAttr(prefix, p string, a *tfprotov6.SchemaAttribute) []string {
	switch {
	case strings.TrimSpace(a.Description) == "":
		return []string{p}
	case a.DescriptionKind != tfprotov6.StringKindMarkdown && !strings.HasSuffix(prefix, ".timeouts"):
		return []string{p + " (plain-text Description: use MarkdownDescription)"}
	}
	return nil
}

func undescribedInNested(prefix string, o *tfprotov6.SchemaObject) []string {
	var out []string
	for _, a := range o.Attributes {
		p := prefix + "." + a.Name
		out = append(out, undescribedAttr(prefix, p, a)...)
		if a.NestedType != nil {
			out = append(out, undescribedInNested(p, a.NestedType)...)
		}
	}
	return out
}

type typeInfo struct {
	kind       string // resources, data-sources, ephemeral-resources
	name       string // nimbus_service
	importable bool
}

// types lists every resource, data source and ephemeral resource the
// provider registers, with whether a resource supports import.
func types(t *testing.T) []typeInfo {
	t.Helper()
	ctx := t.Context()
	p := provider.New("test")()
	var meta fwprovider.MetadataResponse
	p.Metadata(ctx, fwprovider.MetadataRequest{}, &meta)
	if meta.TypeName != providerName {
		t.Fatalf("provider type name is %q, want %q", meta.TypeName, providerName)
	}
	var out []typeInfo
	for _, f := range p.Resources(ctx) {
		r := f()
		var m resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &m)
		_, importable := r.(resource.ResourceWithImportState)
		out = append(out, typeInfo{kind: "resources", name: m.TypeName, importable: importable})
	}
	for _, f := range p.DataSources(ctx) {
		var m datasource.MetadataResponse
		f().Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: meta.TypeName}, &m)
		out = append(out, typeInfo{kind: "data-sources", name: m.TypeName})
	}
	pe, ok := p.(fwprovider.ProviderWithEphemeralResources)
	if !ok {
		t.Fatal("the provider has no ephemeral resources")
	}
	for _, f := range pe.EphemeralResources(ctx) {
		var m ephemeral.MetadataResponse
		f().Metadata(ctx, ephemeral.MetadataRequest{ProviderTypeName: meta.TypeName}, &m)
		out = append(out, typeInfo{kind: "ephemeral-resources", name: m.TypeName})
	}
	return out
}

var exampleFile = map[string]string{
	"resources":           "resource.tf",
	"data-sources":        "data-source.tf",
	"ephemeral-resources": "ephemeral-resource.tf",
}

// readRoot reads a file of the repository (rel is relative to its root).
func readRoot(t *testing.T, rel ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{root}, rel...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exists(rel string) bool {
	_, err := os.Stat(filepath.Join(root, rel))
	return err == nil
}

// TestExamples checks that the provider, every resource, data source and
// ephemeral resource has the example tfplugindocs embeds, and that every
// importable resource has an import.sh (as terraform-provider-tfe checks).
func TestExamples(t *testing.T) {
	if !exists("examples/provider/provider.tf") {
		t.Error("missing examples/provider/provider.tf")
	}
	for _, ty := range types(t) {
		dir := filepath.Join("examples", ty.kind, ty.name)
		if f := filepath.Join(dir, exampleFile[ty.kind]); !exists(f) {
			t.Errorf("%s %s: missing example %s", ty.kind, ty.name, f)
		}
		if ty.importable {
			if f := filepath.Join(dir, "import.sh"); !exists(f) {
				t.Errorf("%s %s is importable but has no %s", ty.kind, ty.name, f)
			}
		}
	}
}

// TestTemplatesAndPages checks that every type has its own template (so no
// page is left to tfplugindocs' generic default) and a generated page, and
// that there is no template or page for a type that does not exist.
func TestTemplatesAndPages(t *testing.T) {
	want := map[string][]string{}
	for _, ty := range types(t) {
		short := strings.TrimPrefix(ty.name, providerName+"_")
		want[ty.kind] = append(want[ty.kind], short)
	}
	for _, kind := range []string{"resources", "data-sources", "ephemeral-resources"} {
		for _, short := range want[kind] {
			if f := filepath.Join("templates", kind, short+".md.tmpl"); !exists(f) {
				t.Errorf("%s %s_%s: missing template %s", kind, providerName, short, f)
			}
			if f := filepath.Join("docs", kind, short+".md"); !exists(f) {
				t.Errorf("%s %s_%s: missing page %s (run make docs)", kind, providerName, short, f)
			}
		}
		for _, dir := range []struct{ base, ext string }{{"templates", ".md.tmpl"}, {"docs", ".md"}} {
			entries, err := os.ReadDir(filepath.Join(root, dir.base, kind))
			if err != nil {
				continue
			}
			for _, e := range entries {
				short := strings.TrimSuffix(e.Name(), dir.ext)
				if !slices.Contains(want[kind], short) {
					t.Errorf("%s/%s/%s documents %s_%s, which the provider does not register", dir.base, kind, e.Name(), providerName, short)
				}
			}
		}
	}
	for _, f := range []string{"templates/index.md.tmpl", "docs/index.md"} {
		if !exists(f) {
			t.Errorf("missing %s", f)
		}
	}
	for _, g := range []string{"local-server", "api-reference", "troubleshooting", "testing-modules"} {
		if !exists("templates/guides/" + g + ".md.tmpl") {
			t.Errorf("missing guide template templates/guides/%s.md.tmpl", g)
		}
		if !exists("docs/guides/" + g + ".md") {
			t.Errorf("missing guide docs/guides/%s.md (run make docs)", g)
		}
	}
}

// TestRegistryManifest checks the manifest the Registry reads: version 1 and
// the plugin protocol the provider serves.
func TestRegistryManifest(t *testing.T) {
	b := readRoot(t, "terraform-registry-manifest.json")
	var m struct {
		Version  int `json:"version"`
		Metadata struct {
			ProtocolVersions []string `json:"protocol_versions"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("terraform-registry-manifest.json: %v", err)
	}
	if m.Version != 1 || !slices.Equal(m.Metadata.ProtocolVersions, []string{"6.0"}) {
		t.Errorf("terraform-registry-manifest.json = %s, want version 1 and protocol_versions [\"6.0\"]", b)
	}
}

// TestGoreleaserConfig checks the parts of .goreleaser.yml the Registry
// depends on; `make release-check` validates the rest with goreleaser itself.
func TestGoreleaserConfig(t *testing.T) {
	b := readRoot(t, ".goreleaser.yml")
	var c struct {
		Builds []struct {
			Env     []string `yaml:"env"`
			Flags   []string `yaml:"flags"`
			Ldflags []string `yaml:"ldflags"`
			Goos    []string `yaml:"goos"`
			Goarch  []string `yaml:"goarch"`
			Binary  string   `yaml:"binary"`
		} `yaml:"builds"`
		Archives []struct {
			Formats      []string `yaml:"formats"`
			NameTemplate string   `yaml:"name_template"`
		} `yaml:"archives"`
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
			Algorithm    string `yaml:"algorithm"`
			ExtraFiles   []struct {
				Glob         string `yaml:"glob"`
				NameTemplate string `yaml:"name_template"`
			} `yaml:"extra_files"`
		} `yaml:"checksum"`
		Signs []struct {
			Artifacts string   `yaml:"artifacts"`
			Args      []string `yaml:"args"`
		} `yaml:"signs"`
		Release struct {
			ExtraFiles []struct {
				Glob         string `yaml:"glob"`
				NameTemplate string `yaml:"name_template"`
			} `yaml:"extra_files"`
		} `yaml:"release"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf(".goreleaser.yml: %v", err)
	}
	expect := func(ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Errorf(".goreleaser.yml: "+format, args...)
		}
	}
	expect(len(c.Builds) == 1, "want exactly one build, got %d", len(c.Builds))
	if len(c.Builds) == 1 {
		b := c.Builds[0]
		expect(slices.Contains(b.Env, "CGO_ENABLED=0"), "build must set CGO_ENABLED=0")
		expect(slices.Contains(b.Flags, "-trimpath"), "build must use -trimpath")
		ld := strings.Join(b.Ldflags, " ")
		for _, want := range []string{"-s", "-w", "-X main.version={{ .Version }}", "-X main.commit={{ .Commit }}"} {
			expect(strings.Contains(ld, want), "ldflags %q lack %q", ld, want)
		}
		for _, goos := range []string{"linux", "darwin", "windows", "freebsd"} {
			expect(slices.Contains(b.Goos, goos), "goos lacks %s", goos)
		}
		for _, arch := range []string{"amd64", "arm64", "arm", "386"} {
			expect(slices.Contains(b.Goarch, arch), "goarch lacks %s", arch)
		}
		expect(b.Binary == "{{ .ProjectName }}_v{{ .Version }}", "binary name %q is not {{ .ProjectName }}_v{{ .Version }}", b.Binary)
	}
	expect(len(c.Archives) == 1 && slices.Equal(c.Archives[0].Formats, []string{"zip"}) &&
		c.Archives[0].NameTemplate == "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}",
		"archives must be zip files named {{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}")
	expect(c.Checksum.NameTemplate == "{{ .ProjectName }}_{{ .Version }}_SHA256SUMS" && c.Checksum.Algorithm == "sha256",
		"checksum must be sha256 named {{ .ProjectName }}_{{ .Version }}_SHA256SUMS")
	manifest := "{{ .ProjectName }}_{{ .Version }}_manifest.json"
	shipsManifest := func(files []struct {
		Glob         string `yaml:"glob"`
		NameTemplate string `yaml:"name_template"`
	}) bool {
		for _, f := range files {
			if f.Glob == "terraform-registry-manifest.json" && f.NameTemplate == manifest {
				return true
			}
		}
		return false
	}
	expect(shipsManifest(c.Checksum.ExtraFiles), "the manifest must be checksummed as %s", manifest)
	expect(shipsManifest(c.Release.ExtraFiles), "the manifest must be released as %s", manifest)
	expect(len(c.Signs) == 1 && c.Signs[0].Artifacts == "checksum" &&
		strings.Contains(strings.Join(c.Signs[0].Args, " "), "--local-user {{ .Env.GPG_FINGERPRINT }}") &&
		slices.Contains(c.Signs[0].Args, "--detach-sign"),
		"the checksum file must be detach-signed with the key in GPG_FINGERPRINT")
}

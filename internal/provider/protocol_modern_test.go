package provider

// A protocol-level harness for the list resources and actions: it drives
// the provider server (tfprotov6) the way Terraform does — configure,
// import, read, list, invoke — against the in-process Nimbus server, so
// their behaviour is tested on every machine, with or without a CLI that
// has list resources and actions (the acceptance tests in list_*_test.go and
// action_*_test.go run the real Terraform 1.14+ on top).

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// protoProvider is a configured provider server and its schemas.
type protoProvider struct {
	t      *testing.T
	srv    tfprotov6.ProviderServer
	schema *tfprotov6.GetProviderSchemaResponse
	ids    *tfprotov6.GetResourceIdentitySchemasResponse
}

// localTestServer is the in-process test server (the test is skipped
// against another one: the protocol tests count what they list) and a
// client of it.
func localTestServer(t *testing.T) (*testAccEnv, *client.Client) {
	t.Helper()
	env := newTestServer(t)
	requireLocalServer(t, env)
	c := env.Client(t)
	return env, c
}

// newProtoProvider starts the provider server and configures it for env.
func newProtoProvider(t *testing.T, env *testAccEnv) *protoProvider {
	t.Helper()
	ctx := t.Context()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	failOnDiags(t, "schema", schema.Diagnostics)
	ids, err := srv.GetResourceIdentitySchemas(ctx, &tfprotov6.GetResourceIdentitySchemasRequest{})
	if err != nil {
		t.Fatal(err)
	}
	failOnDiags(t, "identity schemas", ids.Diagnostics)
	p := &protoProvider{t: t, srv: srv, schema: schema, ids: ids}
	str := func(s string) tftypes.Value {
		if s == "" {
			return tftypes.NewValue(tftypes.String, nil)
		}
		return tftypes.NewValue(tftypes.String, s)
	}
	cfg := p.object(schema.Provider.ValueType(), map[string]tftypes.Value{
		"endpoint": str(env.Endpoint), "tenant_id": str(env.Tenant), "token": str(env.Token), "api_key": str(env.APIKey),
	})
	resp, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: p.dynamic(schema.Provider.ValueType(), cfg)})
	if err != nil {
		t.Fatal(err)
	}
	failOnDiags(t, "configure", resp.Diagnostics)
	return p
}

func failOnDiags(t *testing.T, what string, diags []*tfprotov6.Diagnostic) {
	t.Helper()
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Fatalf("%s: %s: %s", what, d.Summary, d.Detail)
		}
	}
}

// object builds a value of the object type typ: vals, and null for every
// attribute vals leaves out.
func (p *protoProvider) object(typ tftypes.Type, vals map[string]tftypes.Value) tftypes.Value {
	obj, ok := typ.(tftypes.Object)
	if !ok {
		p.t.Fatalf("%s is not an object type", typ)
	}
	all := map[string]tftypes.Value{}
	for name, at := range obj.AttributeTypes {
		if v, ok := vals[name]; ok {
			all[name] = v
		} else {
			all[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, all)
}

func (p *protoProvider) dynamic(typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		p.t.Fatal(err)
	}
	return &dv
}

func (p *protoProvider) value(typ tftypes.Type, dv *tfprotov6.DynamicValue) tftypes.Value {
	if dv == nil {
		p.t.Fatal("no value")
	}
	v, err := dv.Unmarshal(typ)
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// listResult is one list result, decoded.
type listResult struct {
	DisplayName string
	Identity    map[string]string
	Resource    tftypes.Value // null without include_resource
	Diagnostics []*tfprotov6.Diagnostic
}

// list runs the list resource typeName with the given config attributes.
func (p *protoProvider) list(typeName string, config map[string]tftypes.Value, include bool, limit int64) []listResult {
	p.t.Helper()
	ls, ok := p.schema.ListResourceSchemas[typeName]
	if !ok {
		p.t.Fatalf("no list resource %s", typeName)
	}
	blockType := ls.ValueType()
	cfg := p.object(blockType, config)
	ls6, ok := p.srv.(tfprotov6.ListResourceServer)
	if !ok {
		p.t.Fatal("the provider server has no list resources")
	}
	stream, err := ls6.ListResource(p.t.Context(), &tfprotov6.ListResourceRequest{
		TypeName: typeName, Config: p.dynamic(blockType, cfg), IncludeResource: include, Limit: limit,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	resType := p.schema.ResourceSchemas[typeName].ValueType()
	idType := p.ids.IdentitySchemas[typeName].ValueType()
	var out []listResult
	for r := range stream.Results {
		lr := listResult{DisplayName: r.DisplayName, Diagnostics: r.Diagnostics, Resource: tftypes.NewValue(resType, nil)}
		if r.Identity != nil {
			lr.Identity = stringAttrs(p.t, p.value(idType, r.Identity.IdentityData))
		}
		if r.Resource != nil {
			lr.Resource = p.value(resType, r.Resource)
		}
		out = append(out, lr)
	}
	return out
}

// expectImported fails the test unless got, a listed resource object, is
// the state that import + Read of typeName id produce, and returns the
// identity after import + Read.
func (p *protoProvider) expectImported(typeName, id string, got tftypes.Value) map[string]string {
	p.t.Helper()
	want, wantID := p.importAndRead(typeName, id)
	if !got.Equal(want) {
		p.t.Errorf("%s: list result\n%s\ndiffers from import + read\n%s", id, got, want)
	}
	return wantID
}

// importAndRead imports typeName by id and refreshes it, as Terraform does
// for an import, and returns the state and identity the provider produces.
func (p *protoProvider) importAndRead(typeName, id string) (tftypes.Value, map[string]string) {
	p.t.Helper()
	ctx := p.t.Context()
	imp, err := p.srv.ImportResourceState(ctx, &tfprotov6.ImportResourceStateRequest{TypeName: typeName, ID: id})
	if err != nil {
		p.t.Fatal(err)
	}
	failOnDiags(p.t, "import "+id, imp.Diagnostics)
	if len(imp.ImportedResources) != 1 {
		p.t.Fatalf("import %s: %d resources", id, len(imp.ImportedResources))
	}
	ir := imp.ImportedResources[0]
	read, err := p.srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{
		TypeName: typeName, CurrentState: ir.State, Private: ir.Private, CurrentIdentity: ir.Identity,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	failOnDiags(p.t, "read "+id, read.Diagnostics)
	resType := p.schema.ResourceSchemas[typeName].ValueType()
	idType := p.ids.IdentitySchemas[typeName].ValueType()
	return p.value(resType, read.NewState), stringAttrs(p.t, p.value(idType, read.NewIdentity.IdentityData))
}

// invoke runs the action typeName with the given config attributes and
// returns its progress messages and final diagnostics.
func (p *protoProvider) invoke(typeName string, config map[string]tftypes.Value) ([]string, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	as, ok := p.schema.ActionSchemas[typeName]
	if !ok {
		p.t.Fatalf("no action %s", typeName)
	}
	typ := as.Schema.ValueType()
	as6, ok := p.srv.(tfprotov6.ActionServer)
	if !ok {
		p.t.Fatal("the provider server has no actions")
	}
	stream, err := as6.InvokeAction(p.t.Context(), &tfprotov6.InvokeActionRequest{
		ActionType: typeName, Config: p.dynamic(typ, p.object(typ, config)),
	})
	if err != nil {
		p.t.Fatal(err)
	}
	var progress []string
	var diags []*tfprotov6.Diagnostic
	for ev := range stream.Events {
		switch e := ev.Type.(type) {
		case tfprotov6.ProgressInvokeActionEventType:
			progress = append(progress, e.Message)
		case tfprotov6.CompletedInvokeActionEventType:
			diags = e.Diagnostics
		}
	}
	return progress, diags
}

// stringAttrs returns the string attributes of an object value.
func stringAttrs(t *testing.T, v tftypes.Value) map[string]string {
	t.Helper()
	var m map[string]tftypes.Value
	if err := v.As(&m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, av := range m {
		var s *string
		if err := av.As(&s); err == nil && s != nil {
			out[k] = *s
		}
	}
	return out
}

// attrOf returns the attribute name of an object value.
func attrOf(t *testing.T, v tftypes.Value, name string) tftypes.Value {
	t.Helper()
	var m map[string]tftypes.Value
	if err := v.As(&m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}

// warningsNaming returns the summaries and details of warnings that mention every
// one of words.
func warningsNaming(diags []*tfprotov6.Diagnostic, words ...string) []string {
	return diagsMatching(diags, tfprotov6.DiagnosticSeverityWarning, words)
}

func str(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

// expectLimitAndBadState checks that Terraform's limit ends a listing of
// typeName after limit results, and that lifecycle_state = bad fails
// validation with one error naming bad and the allowed values.
func (p *protoProvider) expectLimitAndBadState(typeName string, limit int64, bad string, allowed ...string) {
	p.t.Helper()
	if n := int64(len(p.list(typeName, nil, false, limit))); n != limit {
		p.t.Errorf("limit %d: %d results", limit, n)
	}
	diags := p.validateList(typeName, map[string]tftypes.Value{"lifecycle_state": str(bad)})
	if e := errorsMatching(diags, append(allowed, bad)...); len(e) != 1 {
		p.t.Errorf("lifecycle_state = %q: diagnostics %+v", bad, diags)
	}
}

// validateList validates a list resource configuration as Terraform does
// before listing, and returns the diagnostics.
func (p *protoProvider) validateList(typeName string, config map[string]tftypes.Value) []*tfprotov6.Diagnostic {
	p.t.Helper()
	typ := p.schema.ListResourceSchemas[typeName].ValueType()
	ls6, ok := p.srv.(tfprotov6.ListResourceServer)
	if !ok {
		p.t.Fatal("the provider server has no list resources")
	}
	resp, err := ls6.ValidateListResourceConfig(p.t.Context(), &tfprotov6.ValidateListResourceConfigRequest{
		TypeName: typeName, Config: p.dynamic(typ, p.object(typ, config)),
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.Diagnostics
}

// validateAction validates an action configuration and returns the diagnostics.
func (p *protoProvider) validateAction(typeName string, config map[string]tftypes.Value) []*tfprotov6.Diagnostic {
	p.t.Helper()
	typ := p.schema.ActionSchemas[typeName].Schema.ValueType()
	as6, ok := p.srv.(tfprotov6.ActionServer)
	if !ok {
		p.t.Fatal("the provider server has no actions")
	}
	resp, err := as6.ValidateActionConfig(p.t.Context(), &tfprotov6.ValidateActionConfigRequest{
		ActionType: typeName, Config: p.dynamic(typ, p.object(typ, config)),
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.Diagnostics
}

// errorsMatching returns the error diagnostics whose summary or detail
// contains every one of words.
func errorsMatching(diags []*tfprotov6.Diagnostic, words ...string) []string {
	return diagsMatching(diags, tfprotov6.DiagnosticSeverityError, words)
}

// diagsMatching returns the summaries and details of the diagnostics of
// severity sev that mention every one of words.
func diagsMatching(diags []*tfprotov6.Diagnostic, sev tfprotov6.DiagnosticSeverity, words []string) []string {
	var out []string
	for _, d := range diags {
		if d.Severity != sev {
			continue
		}
		text := d.Summary + " " + d.Detail
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(text, w)
		}
		if ok {
			out = append(out, text)
		}
	}
	return out
}

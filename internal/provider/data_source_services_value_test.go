package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// TestServicesDataSourceValue: nimbus_services builds its state without the
// framework's reflection; it is the state the reflection builds from the
// same listing (ListValueFrom of the serviceInfo models, State.Set), for
// services of every backend kind, with and without labels, over two pages,
// and for an empty tenant (null lists).
func TestServicesDataSourceValue(t *testing.T) {
	smallPages(t, 2)
	ctx := t.Context()
	srv, schema, c := newBenchListing(t, 0)
	typ := schema.DataSourceSchemas["nimbus_services"].ValueType()
	read := func() tftypes.Value {
		t.Helper()
		resp, err := srv.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{
			TypeName: "nimbus_services", Config: benchDynamic(t, typ, benchObject(t, typ, nil)),
		})
		benchCheck(t, "read nimbus_services", err, resp.Diagnostics)
		v, err := resp.State.Unmarshal(typ)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("empty", func(t *testing.T) { checkServicesValue(ctx, t, c, read()) })

	for _, req := range []api.CreateServiceRequest{
		{Name: "lb", Labels: map[string]string{"team": "web"}, Backend: api.Backend{Kind: api.BackendKindBuiltIn, Provider: api.ProviderLoadBalancer}},
		{Name: "search", Backend: api.Backend{Kind: api.BackendKindExternal, Endpoint: &api.ExternalEndpoint{URL: "http://127.0.0.1:9/"}}},
		{Name: "web", Backend: api.Backend{Kind: api.BackendKindSandbox, Sandbox: &api.SandboxSpec{
			Owner:   api.Owner{Kind: api.OwnerKindService, ServiceName: "web"},
			Backend: api.RuntimeContainer,
			Root:    api.Root{Kind: api.RootKindOCIImage, Source: api.RootSource{Kind: api.SourceKindReference, Reference: "web:1"}},
			Process: api.Process{Argv: api.RedactableList{Values: []string{"web"}}},
		}}},
	} {
		if _, err := c.Services.Create(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Services.Start(ctx, "lb", client.ActionOptions{IfMatchGeneration: 1}); err != nil {
		t.Fatal(err)
	}
	t.Run("three services", func(t *testing.T) { checkServicesValue(ctx, t, c, read()) })
}

// checkServicesValue compares got with the state the framework's reflection
// builds from the listing c returns now.
func checkServicesValue(ctx context.Context, t *testing.T, c *client.Client, got tftypes.Value) {
	t.Helper()
	var sr datasource.SchemaResponse
	(&ServicesDataSource{}).Schema(ctx, datasource.SchemaRequest{}, &sr)
	state := tfsdk.State{Schema: sr.Schema, Raw: got}
	var m servicesModel
	if d := state.Get(ctx, &m); d.HasError() {
		t.Fatal(d)
	}
	var names []string
	var items []serviceInfoModel
	var diags diag.Diagnostics
	for svc, err := range c.Services.All(ctx, client.ListServicesOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, svc.Metadata.Name)
		items = append(items, serviceInfo(&svc, &diags))
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
	l, d := types.ListValueFrom(ctx, types.StringType, names)
	if d.HasError() {
		t.Fatal(d)
	}
	m.Names = l
	svcs, d := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: serviceInfoAttrTypes}, items)
	if d.HasError() {
		t.Fatal(d)
	}
	m.Services = svcs
	want := tfsdk.State{Schema: sr.Schema}
	if d := want.Set(ctx, &m); d.HasError() {
		t.Fatal(d)
	}
	if !got.Equal(want.Raw) {
		t.Fatalf("state:\n%s\nwant (reflection):\n%s", got, want.Raw)
	}
}

package provider

import (
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestModernSchemas: the provider serves the three identity schemas, three
// list resources and five actions (that they are described is
// docscheck.TestSchemaDescriptions').
func TestModernSchemas(t *testing.T) {
	ctx := t.Context()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	failOnDiags(t, "schema", resp.Diagnostics)
	ids, err := srv.GetResourceIdentitySchemas(ctx, &tfprotov6.GetResourceIdentitySchemasRequest{})
	if err != nil {
		t.Fatal(err)
	}
	failOnDiags(t, "identity schemas", ids.Diagnostics)

	names := func(m map[string]*tfprotov6.Schema) string {
		var out []string
		for n := range m {
			out = append(out, n)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	if got := names(resp.ListResourceSchemas); got != "nimbus_sandbox nimbus_service nimbus_session" {
		t.Errorf("list resources: %s", got)
	}
	var actions []string
	for n := range resp.ActionSchemas {
		actions = append(actions, n)
	}
	sort.Strings(actions)
	if got := strings.Join(actions, " "); got != "nimbus_sandbox_stop nimbus_service_restart nimbus_service_start nimbus_service_stop nimbus_session_close" {
		t.Errorf("actions: %s", got)
	}
	wantIdentity := map[string]string{"nimbus_service": "name tenant_id", "nimbus_sandbox": "id tenant_id", "nimbus_session": "id tenant_id"}
	for typ, want := range wantIdentity {
		s, ok := ids.IdentitySchemas[typ]
		if !ok {
			t.Errorf("%s: no identity schema", typ)
			continue
		}
		var attrs []string
		for _, a := range s.IdentityAttributes {
			attrs = append(attrs, a.Name)
		}
		sort.Strings(attrs)
		if got := strings.Join(attrs, " "); got != want {
			t.Errorf("%s identity: %s, want %s", typ, got, want)
		}
	}
}

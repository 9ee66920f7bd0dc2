package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// importByIdentity imports typeName through the plugin protocol with an
// identity (attributes left out are null) and refreshes it.
func (p *protoProvider) importByIdentity(typeName string, identity map[string]tftypes.Value) ([]*tfprotov6.Diagnostic, map[string]string) {
	p.t.Helper()
	ctx := p.t.Context()
	idType := p.ids.IdentitySchemas[typeName].ValueType()
	imp, err := p.srv.ImportResourceState(ctx, &tfprotov6.ImportResourceStateRequest{TypeName: typeName,
		Identity: &tfprotov6.ResourceIdentityData{IdentityData: p.dynamic(idType, p.object(idType, identity))}})
	if err != nil {
		p.t.Fatal(err)
	}
	if len(imp.ImportedResources) != 1 {
		return imp.Diagnostics, nil
	}
	ir := imp.ImportedResources[0]
	read, err := p.srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{
		TypeName: typeName, CurrentState: ir.State, Private: ir.Private, CurrentIdentity: ir.Identity,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	if read.NewIdentity == nil {
		return append(imp.Diagnostics, read.Diagnostics...), nil
	}
	return append(imp.Diagnostics, read.Diagnostics...), stringAttrs(p.t, p.value(idType, read.NewIdentity.IdentityData))
}

// TestIdentity_protocol imports each kind by identity through the plugin
// protocol, with and without tenant_id, and rejects invalid identities with
// a message saying what an identity looks like.
func TestIdentity_protocol(t *testing.T) {
	env, c := localTestServer(t)
	name := testAccName("web")
	testfixtures.CreateRunningService(t, c, fixtureService(name))
	sb := testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(nil))
	ses := openServiceSession(t, c, name, 0, "stdio")
	p := newProtoProvider(t, env)
	for _, tc := range []struct {
		typeName, idAttr, id, bad, badWords string
	}{
		{"nimbus_service", "name", name, "Not_A_Name", "Invalid import identity"},
		{"nimbus_sandbox", "id", sb.Metadata.ID, "ses-0123abcd", "not a sandbox ID"},
		{"nimbus_session", "id", ses.Metadata.ID, "sbx-0123abcd", "not a session ID"},
	} {
		for _, withTenant := range []bool{true, false} {
			ident := map[string]tftypes.Value{tc.idAttr: str(tc.id)}
			if withTenant {
				ident["tenant_id"] = str(env.Tenant)
			}
			diags, got := p.importByIdentity(tc.typeName, ident)
			failOnDiags(t, tc.typeName+" import by identity", diags)
			if got[tc.idAttr] != tc.id || got["tenant_id"] != env.Tenant {
				t.Errorf("%s (tenant given: %v): identity after import %v", tc.typeName, withTenant, got)
			}
		}
		diags, _ := p.importByIdentity(tc.typeName, map[string]tftypes.Value{tc.idAttr: str(tc.bad)})
		if e := errorsMatching(diags, tc.badWords, tc.bad); len(e) != 1 {
			t.Errorf("%s: identity %q: %+v", tc.typeName, tc.bad, diags)
		}
	}
}

// TestAccService_identity: a created service has the identity (tenant_id,
// name), and an import block with that identity imports it with an empty
// plan (Terraform 1.12+, OpenTofu 1.12+).
func TestAccService_identity(t *testing.T) {
	env := newTestServer(t)
	name := testAccName("web")
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowIdentity,
		CheckDestroy:           checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				Config: env.Config(`
resource "nimbus_service" "test" {
  name     = "` + name + `"
  labels   = { team = "a" }
  built_in = { provider = "loadBalancer" }
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(svcAddr, map[string]knownvalue.Check{
						"tenant_id": knownvalue.StringExact(env.Tenant), "name": knownvalue.StringExact(name),
					}),
				},
			},
			{ResourceName: svcAddr, ImportState: true, ImportStateKind: resource.ImportBlockWithResourceIdentity},
		},
	})
}

// TestAccSandbox_identity: as TestAccService_identity for a sandbox.
func TestAccSandbox_identity(t *testing.T) {
	env := newTestServer(t)
	testAccIdentityByID(t, env, sbxAddr, api.SandboxIDPattern, `
resource "nimbus_sandbox" "test" {
  image = "docker.io/library/alpine:3"
}
`)
}

// TestAccSession_identity: as TestAccService_identity for a session.
func TestAccSession_identity(t *testing.T) {
	env := newTestServer(t)
	name := testAccName("target")
	cfg := `
resource "nimbus_service" "target" {
  name     = "` + name + `"
  built_in = { provider = "loadBalancer" }
}

resource "nimbus_session" "test" {
  service_name = nimbus_service.target.name
  channels     = ["stdio"]
}
`
	testAccIdentityByID(t, env, sesAddr, api.SessionIDPattern, cfg)
}

// testAccIdentityByID creates addr, an object named by an id matching
// pattern, with cfg; checks its identity (tenant_id and that id, as in
// state); then imports it with an import block by that identity, which
// must plan no change (Terraform 1.12+, OpenTofu 1.12+).
func testAccIdentityByID(t *testing.T, env *testAccEnv, addr string, pattern *regexp.Regexp, cfg string) {
	t.Helper()
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowIdentity,
		Steps: []resource.TestStep{
			{
				Config: env.Config(cfg),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(addr, map[string]knownvalue.Check{
						"tenant_id": knownvalue.StringExact(env.Tenant), "id": knownvalue.StringRegexp(pattern),
					}),
					statecheck.ExpectIdentityValueMatchesState(addr, tfpath("id")),
				},
			},
			{ResourceName: addr, ImportState: true, ImportStateKind: resource.ImportBlockWithResourceIdentity},
		},
	})
}

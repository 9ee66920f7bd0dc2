package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// createTestServices creates, through the client, a running built-in
// service and a running sandbox-backed one (argv and environment set) with
// label team=<team>, and a stopped external service with a bearer token and
// label team=other. It returns their names.
func createTestServices(t *testing.T, c *client.Client, team string) (builtIn, sandboxed, external string) {
	t.Helper()
	builtIn, sandboxed, external = testAccName("lb"), testAccName("app"), testAccName("ext")
	testfixtures.CreateRunningService(t, c, testfixtures.BuiltInService(builtIn, api.ProviderLoadBalancer, map[string]string{"team": team}))
	testfixtures.CreateRunningService(t, c, testfixtures.SandboxService(sandboxed, testfixtures.Image,
		[]string{"/bin/app"}, map[string]string{"K": "secret-value"}, map[string]string{"team": team}))
	if _, err := c.Services.Create(t.Context(), api.CreateServiceRequest{Name: external, Labels: map[string]string{"team": "other"}, Backend: api.Backend{Kind: api.BackendKindExternal,
		Endpoint: &api.ExternalEndpoint{URL: "http://127.0.0.1:9/"},
		Auth:     &api.ExternalAuth{Kind: api.AuthKindBearer, Token: &api.Secret{Value: "bearer-secret"}}}}); err != nil {
		t.Fatalf("create %s: %v", external, err)
	}
	return builtIn, sandboxed, external
}

// TestServiceList_protocol drives the nimbus_service list resource through
// the plugin protocol: filters, paging, the limit, identities, full objects
// equal to what import + Read produce, and the warning naming redacted inputs.
func TestServiceList_protocol(t *testing.T) {
	env, c := localTestServer(t)
	builtIn, sandboxed, external := createTestServices(t, c, "a")
	p := newProtoProvider(t, env)
	// One service per page: every page must be followed.
	smallPages(t, 1)

	teamA := map[string]tftypes.Value{"label_key": str("team"), "label_value": str("a")}
	got := p.list("nimbus_service", teamA, true, 100)
	if len(got) != 2 {
		t.Fatalf("team=a: %d results, want 2: %+v", len(got), got)
	}
	for _, r := range got {
		name := r.Identity["name"]
		if r.Identity["tenant_id"] != env.Tenant || (name != builtIn && name != sandboxed) || r.DisplayName != name {
			t.Fatalf("result %q has identity %v", r.DisplayName, r.Identity)
		}
		// The full object is what a refresh after import produces.
		wantID := p.expectImported("nimbus_service", name, r.Resource)
		if wantID["name"] != name || wantID["tenant_id"] != env.Tenant {
			t.Errorf("%s: identity after import + read is %v", name, wantID)
		}
		warned := warningsNaming(r.Diagnostics, "`sandbox.argv`", "`sandbox.environment`")
		if (name == sandboxed) != (len(warned) == 1) {
			t.Errorf("%s: redaction warnings %q", name, warned)
		}
	}

	// Without include_resource: identities only, no warnings.
	for _, r := range p.list("nimbus_service", teamA, false, 100) {
		if !r.Resource.IsNull() || len(r.Diagnostics) != 0 {
			t.Errorf("%s without include_resource: resource %s, diagnostics %v", r.DisplayName, r.Resource, r.Diagnostics)
		}
	}

	// Lifecycle filter; the bearer token is named as redacted.
	stopped := p.list("nimbus_service", map[string]tftypes.Value{"lifecycle_state": str(api.ServiceStopped)}, true, 100)
	if len(stopped) != 1 || stopped[0].Identity["name"] != external {
		t.Fatalf("stopped: %+v", stopped)
	}
	if w := warningsNaming(stopped[0].Diagnostics, "`external.auth.token`"); len(w) != 1 {
		t.Errorf("external: redaction warnings %q", w)
	}
	if running := attrOf(t, stopped[0].Resource, "running"); !running.Equal(tftypes.NewValue(tftypes.Bool, false)) {
		t.Errorf("a stopped service lists with running = %s", running)
	}

	// Terraform's limit ends the listing; a bad filter value is an error
	// naming the allowed values.
	p.expectLimitAndBadState("nimbus_service", 2, "up", `"stopped"`, `"running"`, `"failed"`)
}

// TestAccServiceList_query runs `terraform query` (Terraform 1.14+) on
// services created by a config step: a label filter, include_resource, and
// a lifecycle filter; then a bad filter value fails with the allowed values.
func TestAccServiceList_query(t *testing.T) {
	env := newTestServer(t)
	team := testAccName("team")
	web, worker := testAccName("web"), testAccName("worker")
	cfg := env.Config(`
resource "nimbus_service" "web" {
  name     = "` + web + `"
  labels   = { team = "` + team + `" }
  built_in = { provider = "loadBalancer" }
}

resource "nimbus_service" "worker" {
  name     = "` + worker + `"
  labels   = { team = "` + team + `" }
  running  = false
  built_in = { provider = "serviceDiscovery" }
}
`)
	byName := func(n string) queryfilter.QueryFilter {
		return queryfilter.ByResourceIdentity(map[string]knownvalue.Check{
			"tenant_id": knownvalue.StringExact(env.Tenant), "name": knownvalue.StringExact(n),
		})
	}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipUnlessListResources,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				Query: true,
				Config: `
list "nimbus_service" "team" {
  provider         = nimbus
  include_resource = true
  config {
    label_key   = "team"
    label_value = "` + team + `"
  }
}

list "nimbus_service" "stopped" {
  provider = nimbus
  config {
    label_key       = "team"
    label_value     = "` + team + `"
    lifecycle_state = "stopped"
  }
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("nimbus_service.team", 2),
					querycheck.ExpectIdentity("nimbus_service.team", map[string]knownvalue.Check{
						"tenant_id": knownvalue.StringExact(env.Tenant), "name": knownvalue.StringExact(web),
					}),
					querycheck.ExpectResourceDisplayName("nimbus_service.team", byName(web), knownvalue.StringExact(web)),
					querycheck.ExpectResourceKnownValues("nimbus_service.team", byName(web), []querycheck.KnownValueCheck{
						{Path: tfpath("id"), KnownValue: knownvalue.StringExact(env.Tenant + "/" + web)},
						{Path: tfpath("running"), KnownValue: knownvalue.Bool(true)},
						{Path: tfpath("lifecycle_state"), KnownValue: knownvalue.StringExact(api.ServiceRunning)},
						{Path: tfpath("built_in").AtMapKey("provider"), KnownValue: knownvalue.StringExact("loadBalancer")},
						{Path: tfpath("labels").AtMapKey("team"), KnownValue: knownvalue.StringExact(team)},
					}),
					querycheck.ExpectResourceKnownValues("nimbus_service.team", byName(worker), []querycheck.KnownValueCheck{
						{Path: tfpath("running"), KnownValue: knownvalue.Bool(false)},
						{Path: tfpath("generation"), KnownValue: knownvalue.Int64Exact(1)},
					}),
					querycheck.ExpectLength("nimbus_service.stopped", 1),
					querycheck.ExpectIdentity("nimbus_service.stopped", map[string]knownvalue.Check{
						"tenant_id": knownvalue.StringExact(env.Tenant), "name": knownvalue.StringExact(worker),
					}),
				},
			},
			{
				Query: true,
				Config: `
list "nimbus_service" "bad" {
  provider = nimbus
  config {
    lifecycle_state = "up"
  }
}
`,
				ExpectError: regexp.MustCompile(`(?s)lifecycle_state.*"stopped".*"running".*"failed"`),
			},
			{Config: cfg},
		},
	})
}

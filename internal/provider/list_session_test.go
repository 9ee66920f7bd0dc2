package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// TestSessionList_protocol drives the nimbus_session list resource through
// the plugin protocol: open sessions by default, the state filter, full
// objects equal to import + Read, nothing redacted.
func TestSessionList_protocol(t *testing.T) {
	env, c := localTestServer(t)
	ctx := t.Context()
	svc := testAccName("target")
	testfixtures.CreateRunningService(t, c, fixtureService(svc))
	open := func() string {
		return openServiceSession(t, c, svc, 5400000, "stdio", "files").Metadata.ID
	}
	kept, closed := open(), open()
	if _, err := c.Sessions.Close(ctx, closed, "done"); err != nil {
		t.Fatal(err)
	}
	p := newProtoProvider(t, env)
	smallPages(t, 1)

	def := p.list("nimbus_session", nil, true, 100)
	if len(def) != 1 || def[0].Identity["id"] != kept || def[0].Identity["tenant_id"] != env.Tenant {
		t.Fatalf("default (open) listing: %+v", def)
	}
	if want := kept + ` (service "` + svc + `", open)`; def[0].DisplayName != want {
		t.Errorf("display name %q, want %q", def[0].DisplayName, want)
	}
	p.expectImported("nimbus_session", kept, def[0].Resource)
	if ttl := attrOf(t, def[0].Resource, "ttl"); !ttl.Equal(str("1h30m")) {
		t.Errorf("ttl %s, want 1h30m", ttl)
	}
	if len(def[0].Diagnostics) != 0 {
		t.Errorf("sessions redact nothing, got %v", def[0].Diagnostics)
	}
	if got := p.list("nimbus_session", map[string]tftypes.Value{"state": str(api.SessionClosed)}, false, 100); len(got) != 1 || got[0].Identity["id"] != closed {
		t.Errorf("state = closed: %+v", got)
	}
	if got := p.list("nimbus_session", map[string]tftypes.Value{"state": str("all")}, false, 100); len(got) != 2 {
		t.Errorf("state = all: %+v", got)
	}
	diags := p.validateList("nimbus_session", map[string]tftypes.Value{"state": str("active")})
	if e := errorsMatching(diags, `"open"`, `"closed"`, `"expired"`, `"all"`, "active"); len(e) != 1 {
		t.Errorf("state = \"active\": diagnostics %+v", diags)
	}
}

// TestAccSessionList_query runs `terraform query` (Terraform 1.14+) on a
// session opened by a config step.
func TestAccSessionList_query(t *testing.T) {
	env := newTestServer(t)
	svc := testAccName("target")
	cfg := env.Config(`
resource "nimbus_service" "target" {
  name     = "` + svc + `"
  built_in = { provider = "loadBalancer" }
}

resource "nimbus_session" "test" {
  service_name = nimbus_service.target.name
  channels     = ["stdio"]
  ttl          = "1h"
}
`)
	var id string
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipUnlessListResources,
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureAttr(sesAddr, "id", &id)},
			{
				Query: true,
				Config: `
list "nimbus_session" "open" {
  provider         = nimbus
  include_resource = true
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLengthAtLeast("nimbus_session.open", 1),
					querycheck.ExpectResourceKnownValues("nimbus_session.open",
						queryfilter.ByResourceIdentity(map[string]knownvalue.Check{
							"tenant_id": knownvalue.StringExact(env.Tenant), "id": knownvalue.StringFunc(func(v string) error { return nil }),
						}),
						[]querycheck.KnownValueCheck{
							{Path: tfpath("service_name"), KnownValue: knownvalue.StringExact(svc)},
							{Path: tfpath("ttl"), KnownValue: knownvalue.StringExact("1h")},
							{Path: tfpath("lifecycle_state"), KnownValue: knownvalue.StringExact(api.SessionOpen)},
						}),
				},
			},
			{Config: cfg},
		},
	})
}

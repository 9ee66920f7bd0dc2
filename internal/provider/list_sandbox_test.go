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

// TestSandboxList_protocol drives the nimbus_sandbox list resource through
// the plugin protocol: only standalone sandboxes, filters, paging, full
// objects equal to import + Read, and the warning naming redacted inputs.
func TestSandboxList_protocol(t *testing.T) {
	env, c := localTestServer(t)
	ctx := t.Context()
	// A service-backed sandbox exists too: it must not be listed.
	_, sandboxed, _ := createTestServices(t, c, "svc")
	owned, err := c.Services.Get(ctx, sandboxed)
	if err != nil || owned.Status.SandboxID == "" {
		t.Fatalf("service %s owns no sandbox: %+v %v", sandboxed, owned, err)
	}
	first := testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(map[string]string{"team": "a"}))
	second := testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(map[string]string{"team": "a"}))
	other := testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(map[string]string{"team": "b"}))
	if _, err := c.Sandboxes.Stop(ctx, other.Metadata.ID, client.ActionOptions{WaitUntil: api.WaitStopped}); err != nil {
		t.Fatal(err)
	}
	p := newProtoProvider(t, env)
	smallPages(t, 1)

	all := p.list("nimbus_sandbox", nil, false, 100)
	ids := map[string]bool{}
	for _, r := range all {
		ids[r.Identity["id"]] = true
	}
	if len(all) != 3 || !ids[first.Metadata.ID] || !ids[second.Metadata.ID] || !ids[other.Metadata.ID] || ids[owned.Status.SandboxID] {
		t.Fatalf("listed %v; want the three standalone sandboxes and not the service's %s", ids, owned.Status.SandboxID)
	}

	teamA := p.list("nimbus_sandbox", map[string]tftypes.Value{"label_key": str("team"), "label_value": str("a")}, true, 100)
	if len(teamA) != 2 {
		t.Fatalf("team=a: %+v", teamA)
	}
	for _, r := range teamA {
		id := r.Identity["id"]
		if r.Identity["tenant_id"] != env.Tenant || r.DisplayName != id+" (fixture)" {
			t.Fatalf("result %q: identity %v", r.DisplayName, r.Identity)
		}
		wantID := p.expectImported("nimbus_sandbox", id, r.Resource)
		if wantID["id"] != id {
			t.Errorf("%s: identity after import + read is %v", id, wantID)
		}
		// The fixture has argv but no environment.
		if w := warningsNaming(r.Diagnostics, "`argv`"); len(w) != 1 || len(warningsNaming(r.Diagnostics, "`environment`")) != 0 {
			t.Errorf("%s: redaction warnings %v", id, r.Diagnostics)
		}
	}

	stopped := p.list("nimbus_sandbox", map[string]tftypes.Value{"lifecycle_state": str(api.SandboxStopped)}, false, 100)
	if len(stopped) != 1 || stopped[0].Identity["id"] != other.Metadata.ID {
		t.Fatalf("stopped: %+v", stopped)
	}
	p.expectLimitAndBadState("nimbus_sandbox", 1, "gone", `"pending"`, `"running"`, `"stopped"`)
}

// TestAccSandboxList_query runs `terraform query` (Terraform 1.14+) on a
// sandbox created by a config step, with include_resource.
func TestAccSandboxList_query(t *testing.T) {
	env := newTestServer(t)
	team := testAccName("team")
	cfg := env.Config(`
resource "nimbus_sandbox" "test" {
  image        = "docker.io/library/alpine:3"
  display_name = "listed"
  labels       = { team = "` + team + `" }
}
`)
	var id string
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipUnlessListResources,
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureAttr(sbxAddr, "id", &id)},
			{
				Query: true,
				Config: `
list "nimbus_sandbox" "team" {
  provider         = nimbus
  include_resource = true
  config {
    label_key   = "team"
    label_value = "` + team + `"
  }
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("nimbus_sandbox.team", 1),
					querycheck.ExpectResourceKnownValues("nimbus_sandbox.team",
						queryfilter.ByDisplayName(knownvalue.StringRegexp(regexp.MustCompile(`^sbx-.* \(listed\)$`))),
						[]querycheck.KnownValueCheck{
							{Path: tfpath("display_name"), KnownValue: knownvalue.StringExact("listed")},
							{Path: tfpath("lifecycle_state"), KnownValue: knownvalue.StringExact(api.SandboxRunning)},
							{Path: tfpath("owner_kind"), KnownValue: knownvalue.StringExact(api.OwnerKindStandalone)},
							{Path: tfpath("argv"), KnownValue: knownvalue.Null()},
						}),
				},
			},
			{Config: cfg},
		},
	})
}

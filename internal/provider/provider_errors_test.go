package provider

// Acceptance tests of errors that must say what is wrong: a tenant the
// server does not have (wrong tenant, wrong server, a server started
// afresh), a malformed endpoint, a failed wait.

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// tenantMissing matches the diagnostic for a tenant the server does not
// have, across the CLI's line wrapping.
func tenantMissing(tenant string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)tenant\s+"` + tenant + `"\s+does\s+not\s+exist\s+on\s+the\s+Nimbus\s+server.*has\s+no\s+tenant\s+"` +
		tenant + `".*state\s+was\s+left\s+as\s+it\s+is`)
}

// exactlyOnce matches a text that contains w exactly once. w must not
// repeat its first character (then RE2, which has no look-ahead, can say
// it): the text is a run of pieces that cannot complete w, then w, then
// another such run.
func exactlyOnce(w string) *regexp.Regexp {
	if len(w) < 2 || strings.ContainsRune(w[1:], rune(w[0])) {
		panic("exactlyOnce: w must not repeat its first character: " + w)
	}
	q := regexp.QuoteMeta
	first := q(w[:1])
	var prefixes, breaks []string
	for i := 1; i < len(w); i++ {
		prefixes = append(prefixes, q(w[:i]))
		breaks = append(breaks, q(w[:i])+"[^"+q(w[i:i+1])+first+"]")
	}
	// A piece that cannot complete w: a character other than w's first,
	// or a proper prefix of w cut short by a character that neither
	// continues it nor starts w again. Prefixes followed by w's first
	// character restart w.
	avoid := `(?:[^` + first + `]|(?:` + strings.Join(prefixes, "|") + `)*(?:` + strings.Join(breaks, "|") + `))*(?:` +
		strings.Join(prefixes, "|") + `)*`
	return regexp.MustCompile(`(?s)\A` + avoid + q(w) + avoid + `\z`)
}

func TestExactlyOnce(t *testing.T) {
	re := exactlyOnce("(exit")
	for s, want := range map[string]bool{
		"a (exit b":           true,
		"((exit (exi (ex(e(":  true,
		"(exit (exit":         false,
		"none":                false,
		"(ex(exit\n(exi(exit": false,
		"(exi\n(exit\n(e":     true,
	} {
		if got := re.MatchString(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
}

// tenantServers starts the server the objects were created on (tenants acc
// and blue) and a second server without tenant blue: pointing the provider
// at it is the "wrong server" (or a server started on a fresh data dir).
func tenantServers(t *testing.T) (home, wrong *testAccEnv) {
	home = newTestServer(t, func(o *testserver.Options) { o.Tenants = []string{"acc", "blue"} })
	requireLocalServer(t, home)
	wrong = newTestServer(t)
	return home, wrong
}

// TestAccService_tenantMissing: a provider pointed at a server that does not
// have the objects' tenant fails the refresh with a diagnostic naming the
// tenant (and the tenants the credential can use) instead of silently
// dropping every object of the tenant from the state; destroy fails the same
// way; back on the right server the state is intact and the plan empty.
func TestAccService_tenantMissing(t *testing.T) {
	home, wrong := tenantServers(t)
	name := testAccName("ten")
	cfg := fmt.Sprintf(`
resource "nimbus_service" "test" {
  name      = %q
  tenant_id = "blue"
  built_in  = { provider = "serviceDiscovery" }
}

resource "nimbus_sandbox" "test" {
  tenant_id = "blue"
  image     = "docker.io/library/alpine:3"
}
`, name)
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, &testAccEnv{Endpoint: home.Endpoint, Token: home.Token, Tenant: "blue"}, name),
		Steps: []resource.TestStep{
			{Config: home.Config(cfg)},
			{
				// Refresh against the wrong server: an error, not an empty state.
				Config:      wrong.Config(cfg),
				ExpectError: tenantMissing("blue"),
			},
			{
				Config:      wrong.Config(cfg),
				ExpectError: regexp.MustCompile(`(?s)Tenants\s+this\s+credential\s+can\s+use\s+on\s+the\s+server:\s+acc\.`),
			},
			{
				// Destroy against the wrong server fails; nothing is forgotten.
				Config:      wrong.Config(cfg),
				Destroy:     true,
				ExpectError: tenantMissing("blue"),
			},
			{
				// Back on the right server: both objects are still in the
				// state (no create planned).
				Config: home.Config(cfg),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "tenant_id", knownvalue.StringExact("blue")),
					stateIs(sbxAddr, "tenant_id", knownvalue.StringExact("blue")),
				},
			},
		},
	})
}

// TestAccService_tenantMissingCreate: creating an object in a tenant the
// server does not have says so (not "the object does not exist").
func TestAccService_tenantMissingCreate(t *testing.T) {
	env := newTestServer(t)
	requireLocalServer(t, env)
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: env.Config(fmt.Sprintf(`
resource "nimbus_service" "test" {
  name      = %q
  tenant_id = "ghost"
  built_in  = { provider = "serviceDiscovery" }
}
`, testAccName("ghost"))),
				ExpectError: tenantMissing("ghost"),
			},
			{
				Config: env.Config(`
resource "nimbus_sandbox" "test" {
  tenant_id = "ghost"
  image     = "docker.io/library/alpine:3"
}
`),
				ExpectError: tenantMissing("ghost"),
			},
		},
	})
}

// TestAccService_tenantMissingDataSources: every data source reports a
// tenant the server does not have as such.
func TestAccService_tenantMissingDataSources(t *testing.T) {
	env := newTestServer(t)
	requireLocalServer(t, env)
	var steps []resource.TestStep
	for _, ds := range []string{
		`data "nimbus_service" "x" {
  name      = "web"
  tenant_id = "ghost"
}`,
		`data "nimbus_services" "x" {
  tenant_id = "ghost"
}`,
		`data "nimbus_sandbox" "x" {
  id        = "sbx-0123abcd"
  tenant_id = "ghost"
}`,
		`data "nimbus_sandboxes" "x" {
  tenant_id = "ghost"
}`,
		`data "nimbus_session" "x" {
  id        = "ses-0123abcd"
  tenant_id = "ghost"
}`,
		`data "nimbus_sessions" "x" {
  tenant_id = "ghost"
}`,
	} {
		steps = append(steps, resource.TestStep{Config: env.Config(ds), ExpectError: tenantMissing("ghost")})
	}
	accTest(t, resource.TestCase{
		Steps: steps,
	})
}

// TestAccService_tenantMissingImport: importing from a tenant the server
// does not have fails with the tenant diagnostic (not "cannot import
// non-existent remote object").
func TestAccService_tenantMissingImport(t *testing.T) {
	env := newTestServer(t)
	requireLocalServer(t, env)
	imports := []struct{ addr, cfg, id string }{
		{svcAddr, `
resource "nimbus_service" "test" {
  name     = "web"
  built_in = { provider = "serviceDiscovery" }
}`, "ghost/web"},
		{sbxAddr, `
resource "nimbus_sandbox" "test" {
  image = "docker.io/library/alpine:3"
}`, "ghost/sbx-0123abcd"},
		{sesAddr, `
resource "nimbus_session" "test" {
  service_name = "web"
  channels     = ["page"]
}`, "ghost/ses-0123abcd"},
	}
	var steps []resource.TestStep
	for _, im := range imports {
		// An import block (Terraform 1.5+, OpenTofu) imports during plan.
		steps = append(steps, resource.TestStep{
			Config:      env.Config(fmt.Sprintf("import {\n  to = %s\n  id = %q\n}\n", im.addr, im.id) + im.cfg),
			ExpectError: tenantMissing("ghost"),
		})
	}
	// The CLI's import command as well.
	steps = append(steps, resource.TestStep{
		Config: env.Config(`resource "nimbus_service" "other" {
  name     = "other"
  built_in = { provider = "serviceDiscovery" }
}`),
	}, resource.TestStep{
		ResourceName:  "nimbus_service.other",
		ImportState:   true,
		ImportStateId: "ghost/other",
		ExpectError:   tenantMissing("ghost"),
	})
	accTest(t, resource.TestCase{
		Steps: steps,
	})
}

// TestAccProvider_malformedEndpoint: NIMBUS_ENDPOINT without a scheme is
// reported once (by the provider, not by every resource and data source),
// as malformed, with the expected form; the same value in the provider
// block fails validation at plan time.
func TestAccProvider_malformedEndpoint(t *testing.T) {
	env := newTestServer(t)
	clearNimbusEnv(t)
	t.Setenv("NIMBUS_ENDPOINT", strings.TrimPrefix(env.Endpoint, "http://"))
	t.Setenv("NIMBUS_TOKEN", env.Token)
	t.Setenv("NIMBUS_TENANT_ID", env.Tenant)
	cfg := builtInConfig(testAccName("ep")) + `
resource "nimbus_sandbox" "test" {
  image = "docker.io/library/alpine:3"
}

data "nimbus_services" "all" {}
`
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: `provider "nimbus" {}` + cfg,
				ExpectError: regexp.MustCompile(`(?s)malformed.*NIMBUS_ENDPOINT.*no\s+scheme.*http://` +
					regexp.QuoteMeta(strings.TrimPrefix(env.Endpoint, "http://")) + `.*http://host:port`),
			},
			{
				// One diagnostic for the whole run.
				Config:      `provider "nimbus" {}` + cfg,
				ExpectError: exactlyOnce("configure"),
			},
			{
				Config:      fmt.Sprintf("provider \"nimbus\" {\n  endpoint = %q\n}\n", strings.TrimPrefix(env.Endpoint, "http://")) + cfg,
				ExpectError: regexp.MustCompile(`(?s)Malformed\s+Nimbus\s+endpoint.*no\s+scheme.*http://host:port`),
			},
		},
	})
}

// TestAccService_failedWaitMessageOnce: when a service fails while the
// provider waits for it, the server's message is printed once.
func TestAccService_failedWaitMessageOnce(t *testing.T) {
	env := newTestServer(t)
	requireLocalServer(t, env)
	name := testAccName("fail")
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				// The simulated runtime fails the image with "image … failed
				// to start (exit code 1); …".
				Config:      env.Config(sandboxServiceConfig(name, "fail.nimbus.invalid/app:1", "null", "")),
				ExpectError: exactlyOnce("(exit"),
			},
			{
				Config:      env.Config(sandboxServiceConfig(name, "fail.nimbus.invalid/app:1", "null", "")),
				ExpectError: regexp.MustCompile(`(?s)failed.*Server\s+message:.*failed\s+to\s+start`),
			},
		},
	})
}

// TestDelete_tenantMissing: Delete of a service, sandbox or session whose
// tenant the server does not have is an error, never "already gone" (which
// would drop the object from the state while it may still exist on the
// right server).
func TestDelete_tenantMissing(t *testing.T) {
	srv := testserver.Start(t)
	pd := &providerData{client: testfixtures.ServerClient(t, srv)}
	ctx := t.Context()
	for _, tc := range []struct {
		r     fwresource.Resource
		attrs map[string]any
	}{
		{&ServiceResource{data: pd}, map[string]any{"name": "web", "tenant_id": "ghost", "generation": int64(1)}},
		{&SandboxResource{data: pd}, map[string]any{"id": "sbx-0123abcd", "tenant_id": "ghost", "generation": int64(1)}},
		{&SessionResource{data: pd}, map[string]any{"id": "ses-0123abcd", "tenant_id": "ghost"}},
	} {
		var sr fwresource.SchemaResponse
		tc.r.Schema(ctx, fwresource.SchemaRequest{}, &sr)
		state := tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(sr.Schema.Type().TerraformType(ctx), nil)}
		for k, v := range tc.attrs {
			if d := state.SetAttribute(ctx, path.Root(k), v); d.HasError() {
				t.Fatalf("%T: %v", tc.r, d)
			}
		}
		resp := fwresource.DeleteResponse{State: state}
		tc.r.Delete(ctx, fwresource.DeleteRequest{State: state}, &resp)
		if !resp.Diagnostics.HasError() {
			t.Errorf("%T: Delete in a tenant that does not exist succeeded", tc.r)
			continue
		}
		d := resp.Diagnostics.Errors()[0]
		if !strings.Contains(d.Summary(), `tenant "ghost" does not exist`) || !strings.Contains(d.Detail(), `has no tenant "ghost"`) {
			t.Errorf("%T: %s\n%s", tc.r, d.Summary(), d.Detail())
		}
	}
}

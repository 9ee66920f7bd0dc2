package provider

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif/wiftest"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestAccProvider_workloadIdentityTokenFile: the provider authenticates
// with HCP-Terraform-style signed tokens read from
// NIMBUS_WORKLOAD_IDENTITY_TOKEN_FILE, verified by the server against a
// JWKS served on loopback. An apply-phase token plans and applies, and
// survives the file being rotated (and the old token expiring) in the
// middle of an apply; a plan-phase token refreshes but is refused a change
// with a diagnostic naming the read-only rule.
func TestAccProvider_workloadIdentityTokenFile(t *testing.T) {
	iss := wiftest.NewIssuer(t)
	issuer := wif.IssuerConfig{Name: "hcp-terraform", Issuer: iss.URL, Audiences: []string{wiftest.Audience}, JWKSURL: iss.JWKSURL,
		Rules: []wif.Rule{
			{Name: "web-apply", Subject: "organization:acme:project:*:workspace:web-*:run_phase:apply", Tenants: []string{"acc"}, Access: wif.AccessReadWrite},
			{Name: "web-plan", Subject: "organization:acme:project:*:workspace:web-*:run_phase:plan", Tenants: []string{"acc"}, Access: wif.AccessRead},
		}}
	tokenFile := filepath.Join(t.TempDir(), "nimbus-token")
	var srv *testserver.Server
	write := func(phase string) {
		tok := iss.Token(t, wiftest.HCPClaims("acme", "Default Project", "web-prod", phase))
		if err := os.WriteFile(tokenFile, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// The first create request of the first apply finds the token file
	// rotated and the token it carries expired: the platform rotated the
	// token in place while the apply was running.
	var armed, rotated atomic.Bool
	armed.Store(true)
	rotate := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/services") && armed.CompareAndSwap(true, false) {
				srv.Clock.Advance(30 * time.Minute) // the token in flight (10 minutes) has expired
				write("apply")                      // minted at the new time
				rotated.Store(true)
			}
			next.ServeHTTP(w, r)
		})
	}
	env := newTestServer(t, testserver.WithFakeClock(), testserver.WithTrustedIssuers(issuer),
		func(o *testserver.Options) { o.WrapHandler = rotate })
	requireLocalServer(t, env)
	srv = env.Server
	iss.Now = srv.Clock.Now

	clearNimbusEnv(t)
	t.Setenv("NIMBUS_WORKLOAD_IDENTITY_TOKEN_FILE", tokenFile)
	name := testAccName("wif")
	providerBlock := fmt.Sprintf("provider \"nimbus\" {\n  endpoint  = %q\n  tenant_id = %q\n}\n", env.Endpoint, env.Tenant)
	config := func(team string) string {
		return providerBlock + fmt.Sprintf(`
resource "nimbus_service" "test" {
  name     = %q
  built_in = { provider = "loadBalancer" }
  labels   = { team = %q }
}`, name, team)
	}
	const addr = svcAddr
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				// Apply-phase token: plan and apply, with the rotation.
				PreConfig: func() { write("apply") },
				Config:    config("web"),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(addr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(*terraform.State) error {
					if !rotated.Load() {
						return fmt.Errorf("the token file was never rotated during the apply")
					}
					return nil
				},
			},
			{
				// Plan-phase token: refreshes, and the plan is empty.
				PreConfig: func() { write("plan") },
				Config:    config("web"),
				PlanOnly:  true,
			},
			{
				// Plan-phase token: a change is refused, naming the rule.
				Config:      config("platform"),
				ExpectError: regexp.MustCompile(`(?s)Nimbus\s+permission\s+denied.*read-only.*"web-plan".*readWrite`),
			},
			{
				// Back to an apply-phase token: the change goes through
				// (and the destroy at the end is allowed).
				PreConfig: func() { write("apply") },
				Config:    config("platform"),
				ConfigStateChecks: []statecheck.StateCheck{
					stateAt(addr, tfpath("labels").AtMapKey("team"), knownvalue.StringExact("platform")),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

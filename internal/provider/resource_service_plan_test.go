package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

const depAddr = "nimbus_sandbox.dep"

// TestAccService_minimalUpdatePlans: for each attribute that updates a
// service in place, the plan marks unknown exactly the computed values the
// change can alter and keeps the others from state, so a sandbox whose argv
// uses the service's endpoint URL is replaced only when the endpoints can
// really change (a backend roll, a stop or start, a restart). Before, any
// change (labels alone) made endpoints unknown and replaced the dependent
// sandbox: "1 to add, 1 to change, 1 to destroy" instead of "1 to change".
func TestAccService_minimalUpdatePlans(t *testing.T) {
	t.Parallel()
	// Status values any PATCH or health check may rewrite: unknown in every
	// update plan.
	status := []string{"observed_generation", "lifecycle_state", "readiness", "health", "status_message", "conditions", "updated_at"}
	for _, tc := range []struct {
		name          string
		before, after string // service arguments before and after the change
		// patched: a PATCH is sent, so generation is unknown; cycled: the
		// service is rolled, stopped, started or restarted, so endpoints and
		// sandbox_id are unknown and the dependent sandbox is replaced.
		patched, cycled bool
	}{
		{name: "labels", before: `labels = { team = "a" }`, after: `labels = { team = "b" }`, patched: true},
		{name: "wait_until", before: ``, after: `wait_until = "healthy"`},
		{name: "timeouts", before: ``, after: `timeouts { update = "7m" }`},
		{name: "restart_triggers", before: `restart_triggers = { v = "1" }`, after: `restart_triggers = { v = "2" }`, cycled: true},
		{name: "stop", before: ``, after: `running = false`, cycled: true},
		{name: "start", before: `running = false`, after: ``, cycled: true},
		{name: "backend", before: ``, after: `built_in = { provider = "serviceDiscovery" }`, patched: true, cycled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestServer(t)
			name := testAccName("plan")
			cfg := func(args string) string {
				backend := `built_in = { provider = "loadBalancer" }`
				if tc.name == "backend" && args == tc.after {
					backend = ""
				}
				return env.Config(fmt.Sprintf(`
resource "nimbus_service" "test" {
  name = %q
  %s
  %s
}

resource "nimbus_sandbox" "dep" {
  image = "docker.io/library/alpine:3"
  argv  = ["/bin/client", join(",", nimbus_service.test.endpoints[*].url)]
}
`, name, backend, args))
			}
			checks := []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(svcAddr, tfpath("id"), knownvalue.StringExact(env.Tenant+"/"+name)),
				plancheck.ExpectKnownValue(svcAddr, tfpath("created_at"), knownvalue.NotNull()),
			}
			for _, a := range status {
				checks = append(checks, plancheck.ExpectUnknownValue(svcAddr, tfpath(a)))
			}
			if tc.patched {
				checks = append(checks, plancheck.ExpectUnknownValue(svcAddr, tfpath("generation")))
			} else {
				checks = append(checks, plancheck.ExpectKnownValue(svcAddr, tfpath("generation"), knownvalue.Int64Exact(1)))
			}
			if tc.cycled {
				checks = append(checks,
					plancheck.ExpectUnknownValue(svcAddr, tfpath("endpoints")),
					plancheck.ExpectUnknownValue(svcAddr, tfpath("sandbox_id")),
					plancheck.ExpectResourceAction(depAddr, plancheck.ResourceActionReplace))
			} else {
				checks = append(checks,
					plancheck.ExpectKnownValue(svcAddr, tfpath("endpoints"), knownvalue.ListSizeExact(1)),
					plancheck.ExpectKnownValue(svcAddr, tfpath("sandbox_id"), knownvalue.StringExact("")),
					plancheck.ExpectResourceAction(depAddr, plancheck.ResourceActionNoop))
			}
			accTest(t, resource.TestCase{
				CheckDestroy: checkServiceDestroyed(t, env, name),
				Steps: []resource.TestStep{
					{Config: cfg(tc.before)},
					// The apply must end without "Provider produced
					// inconsistent result"; the harness then checks that
					// the next plan is empty.
					{Config: cfg(tc.after), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: checks}},
				},
			})
		})
	}
}

// TestAccService_minimalUpdatePlansSandboxBackend: a label change of a
// running sandbox-backed service keeps its sandbox_id and endpoints; an image
// change (a roll) makes them unknown.
func TestAccService_minimalUpdatePlansSandboxBackend(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	name := testAccName("plansb")
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{Config: env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "a" }`, ""))},
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "b" }`, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(svcAddr, tfpath("generation")),
					plancheck.ExpectKnownValue(svcAddr, tfpath("sandbox_id"), knownvalue.StringRegexp(api.SandboxIDPattern)),
					plancheck.ExpectKnownValue(svcAddr, tfpath("endpoints"), knownvalue.NotNull()),
				}},
			},
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:2", `{ team = "b" }`, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(svcAddr, tfpath("generation")),
					plancheck.ExpectUnknownValue(svcAddr, tfpath("sandbox_id")),
					plancheck.ExpectUnknownValue(svcAddr, tfpath("endpoints")),
				}},
			},
		},
	})
}

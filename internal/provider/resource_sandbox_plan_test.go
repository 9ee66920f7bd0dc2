package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestAccSandbox_minimalUpdatePlans: for each attribute that updates a
// sandbox in place, the plan marks unknown exactly what the change can
// alter: generation only for labels, message and updated_at always; the
// endpoints of a running sandbox are kept, so a sandbox whose argv uses them
// is not replaced.
func TestAccSandbox_minimalUpdatePlans(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		before, after string
		patched       bool
	}{
		{name: "labels", before: `labels = { team = "a" }`, after: `labels = { team = "b" }`, patched: true},
		{name: "timeouts", before: ``, after: `timeouts { update = "7m" }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestServer(t)
			cfg := func(args string) string {
				return env.Config(fmt.Sprintf(`
resource "nimbus_sandbox" "test" {
  image = "docker.io/library/alpine:3"
  argv  = ["/bin/server"]
  %s
}

resource "nimbus_sandbox" "dep" {
  image = "docker.io/library/alpine:3"
  argv  = ["/bin/client", join(",", nimbus_sandbox.test.endpoints[*].url)]
}
`, args))
			}
			checks := []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(sbxAddr, tfpath("message")),
				plancheck.ExpectUnknownValue(sbxAddr, tfpath("updated_at")),
				plancheck.ExpectKnownValue(sbxAddr, tfpath("lifecycle_state"), knownvalue.StringExact(api.SandboxRunning)),
				plancheck.ExpectKnownValue(sbxAddr, tfpath("endpoints"), knownvalue.ListSizeExact(1)),
				plancheck.ExpectKnownValue(sbxAddr, tfpath("created_at"), knownvalue.NotNull()),
				plancheck.ExpectResourceAction(depAddr, plancheck.ResourceActionNoop),
			}
			if tc.patched {
				checks = append(checks, plancheck.ExpectUnknownValue(sbxAddr, tfpath("generation")))
			} else {
				checks = append(checks, plancheck.ExpectKnownValue(sbxAddr, tfpath("generation"), knownvalue.Int64Exact(1)))
			}
			accTest(t, resource.TestCase{
				CheckDestroy: checkSandboxesGone(t, env.Client(t)),
				Steps: []resource.TestStep{
					{Config: cfg(tc.before)},
					{Config: cfg(tc.after), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: checks}},
				},
			})
		})
	}
}

// TestAccSandbox_startingAfterRestart: a sandbox found starting (the server
// restarted and starts it again, slowly) is planned to running with its
// message, updated_at and endpoints unknown, so the apply that waits for it
// ends consistently. It used to keep their stale values and fail with
// "Provider produced inconsistent result after apply".
func TestAccSandbox_startingAfterRestart(t *testing.T) {
	t.Parallel()
	env := newTestServer(t, testserver.WithDataDir(t.TempDir()))
	requireLocalServer(t, env)
	cfg := env.Config(`
resource "nimbus_sandbox" "test" {
  image  = "docker.io/library/alpine:3"
  argv   = ["/bin/server"]
  labels = { team = "a" }
}
`)
	accTest(t, resource.TestCase{
		CheckDestroy: checkSandboxesGone(t, env.Client(t)),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// Long enough for refresh and plan to find it starting on a
				// busy machine.
				PreConfig: func() {
					env.Server.RestartWith(t, func(o *testserver.Options) { o.StartDelay = 8 * time.Second })
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(sbxAddr, tfpath("lifecycle_state"), knownvalue.StringExact(api.SandboxRunning)),
					plancheck.ExpectUnknownValue(sbxAddr, tfpath("message")),
					plancheck.ExpectUnknownValue(sbxAddr, tfpath("updated_at")),
					plancheck.ExpectUnknownValue(sbxAddr, tfpath("endpoints")),
					plancheck.ExpectKnownValue(sbxAddr, tfpath("generation"), knownvalue.Int64Exact(1)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sbxAddr, "lifecycle_state", knownvalue.StringExact(api.SandboxRunning)),
					stateIs(sbxAddr, "endpoints", knownvalue.ListSizeExact(1)),
				},
			},
		},
	})
}

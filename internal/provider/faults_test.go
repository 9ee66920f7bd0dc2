package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// Applies against a throttling server: --rate-limit answers 429 with
// Retry-After, --max-in-flight answers 503 (server.unavailable). Nothing
// was done in either case, so every request — writes included — is retried
// after the server's delay until the resource's timeout; applies of many
// services all succeed.

// Backends of manyServicesConfig: built-in services are ready at once;
// sandbox-backed ones take the simulated runtime's start delay, which their
// waits spend in a long-poll.
const (
	builtInBackend = `built_in = { provider = "loadBalancer" }`
	sandboxBackend = `sandbox = {
    image = "example/app:1"
    argv  = ["/bin/app"]
  }`
)

// manyServicesConfig is n services named prefix-0…prefix-(n-1).
func manyServicesConfig(env *testAccEnv, prefix string, n int, backend string) string {
	return env.Config(fmt.Sprintf(`
resource "nimbus_service" "s" {
  count  = %d
  name   = "%s-${count.index}"
  labels = { batch = %q }
  %s
}
`, n, prefix, prefix, backend))
}

func testThrottledApply(t *testing.T, prefix string, n int, backend string, opt func(*testserver.Options)) {
	env := newTestServer(t, opt)
	requireLocalServer(t, env)
	name := testAccName(prefix)
	cfg := manyServicesConfig(env, name, n, backend)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("nimbus_service.s[0]", "readiness", knownvalue.StringExact(api.ReadinessReady)),
				stateIs(fmt.Sprintf("nimbus_service.s[%d]", n-1), "readiness", knownvalue.StringExact(api.ReadinessReady)),
			},
			Check: func(*terraform.State) error { return checkOnePerService(t, env, name, n) },
		}},
	})
}

// The CLI runs 10 operations at once (terraform-plugin-testing always
// passes -parallelism=10), so the servers throttle harder than the issue's
// repro (50 services at -parallelism=30 against 20 requests/s or 8 in
// flight) to get the same pressure: several times more requests wanted than
// allowed.

// TestAccService_rateLimited: 30 services against a server allowing 5
// requests per second per credential.
func TestAccService_rateLimited(t *testing.T) {
	t.Parallel()
	testThrottledApply(t, "rl", 30, builtInBackend, func(o *testserver.Options) { o.RateLimit = 5 })
}

// TestAccService_maxInFlight: 30 sandbox-backed services that take a
// second to start against a server serving at most 4 requests at once:
// the waits' long-polls hold most of the slots, so creates and starts are
// refused (503) again and again.
func TestAccService_maxInFlight(t *testing.T) {
	t.Parallel()
	testThrottledApply(t, "mif", 30, sandboxBackend, func(o *testserver.Options) {
		o.MaxInFlight = 4
		o.StartDelay = time.Second
	})
}

// checkOnePerService checks that the server holds exactly the n services
// prefix-0…prefix-(n-1), and, for sandbox-backed ones, one sandbox each.
func checkOnePerService(t *testing.T, env *testAccEnv, prefix string, n int) error {
	ctx := t.Context()
	c := env.Client(t)
	names := map[string]bool{}
	sandboxes := map[string]bool{}
	for svc, err := range c.Services.All(ctx, client.ListServicesOptions{}) {
		if err != nil {
			return err
		}
		if strings.HasPrefix(svc.Metadata.Name, prefix+"-") {
			names[svc.Metadata.Name] = true
			if id := svc.Status.SandboxID; id != "" {
				sandboxes[id] = true
			}
		}
	}
	if len(names) != n {
		return fmt.Errorf("the server has %d services named %s-…, want %d", len(names), prefix, n)
	}
	owned := 0
	for sb, err := range c.Sandboxes.All(ctx, client.ListSandboxesOptions{}) {
		if err != nil {
			return err
		}
		if sb.Spec.Owner.Kind == api.OwnerKindService && strings.HasPrefix(sb.Spec.Owner.ServiceName, prefix+"-") {
			owned++
			if !sandboxes[sb.Metadata.ID] {
				return fmt.Errorf("sandbox %s of service %s is not the one the service runs: a duplicate", sb.Metadata.ID, sb.Spec.Owner.ServiceName)
			}
		}
	}
	if owned != len(sandboxes) {
		return fmt.Errorf("%d sandboxes for %d sandbox-backed services", owned, len(sandboxes))
	}
	return nil
}

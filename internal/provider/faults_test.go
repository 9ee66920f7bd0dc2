package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
// after the server's delay until the resource's timeout; many services at a
// high parallelism all succeed.

// manyServicesConfig is n built-in services named prefix-0…prefix-(n-1).
func manyServicesConfig(env *testAccEnv, prefix string, n int) string {
	return env.Config(fmt.Sprintf(`
resource "nimbus_service" "s" {
  count    = %d
  name     = "%s-${count.index}"
  labels   = { batch = %q }
  built_in = { provider = "loadBalancer" }
}
`, n, prefix, prefix))
}

// highParallelism makes Terraform and OpenTofu run 30 operations at once
// (the default is 10). It sets process environment, so tests using it are
// not parallel.
func highParallelism(t *testing.T) {
	t.Setenv("TF_CLI_ARGS_apply", "-parallelism=30")
	t.Setenv("TF_CLI_ARGS_plan", "-parallelism=30")
	t.Setenv("TF_CLI_ARGS_destroy", "-parallelism=30")
}

func testThrottledApply(t *testing.T, prefix string, n int, opt func(*testserver.Options)) {
	env := newTestServer(t, opt)
	requireLocalServer(t, env)
	highParallelism(t)
	name := testAccName(prefix)
	cfg := manyServicesConfig(env, name, n)
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

// TestAccService_rateLimited: 40 services at -parallelism=30 against a
// server allowing 20 requests per second.
func TestAccService_rateLimited(t *testing.T) {
	testThrottledApply(t, "rl", 40, func(o *testserver.Options) { o.RateLimit = 20 })
}

// TestAccService_maxInFlight: 40 services at -parallelism=30 against a
// server serving at most 8 requests at once (waits' long-polls included).
func TestAccService_maxInFlight(t *testing.T) {
	testThrottledApply(t, "mif", 40, func(o *testserver.Options) { o.MaxInFlight = 8 })
}

// checkOnePerService checks that the server holds exactly the n services
// prefix-0…prefix-(n-1), and, for sandbox-backed ones, one sandbox each.
func checkOnePerService(t *testing.T, env *testAccEnv, prefix string, n int) error {
	ctx := context.Background()
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

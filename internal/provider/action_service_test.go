package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/diagnostics"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// readyAt returns the service's Ready condition's last transition time.
func readyAt(t *testing.T, s *api.Service) time.Time {
	t.Helper()
	for _, c := range s.Status.Conditions {
		if c.Type == api.ConditionReady {
			return c.LastTransitionTime
		}
	}
	t.Fatalf("service %s has no Ready condition: %+v", s.Metadata.Name, s.Status.Conditions)
	return time.Time{}
}

func getService(t *testing.T, c *client.Client, name string) *api.Service {
	t.Helper()
	s, err := c.Services.Get(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServiceActions_protocol invokes the three service actions through the
// plugin protocol and checks their effect on the server, their progress
// reports, the generation check and validation.
func TestServiceActions_protocol(t *testing.T) {
	env, c := localTestServer(t)
	name := testAccName("web")
	before := testfixtures.CreateRunningService(t, c, fixtureService(name))
	p := newProtoProvider(t, env)
	svc := map[string]tftypes.Value{"name": str(name)}
	gen := func(g int64) map[string]tftypes.Value {
		return map[string]tftypes.Value{"name": str(name), "if_match_generation": tftypes.NewValue(tftypes.Number, g)}
	}

	// Restart: the Ready condition moves, the generation does not, and the
	// action returns once the service is ready again.
	time.Sleep(10 * time.Millisecond) // transition times are distinct
	progress, diags := p.invoke("nimbus_service_restart", svc)
	failOnDiags(t, "restart", diags)
	after := getService(t, c, name)
	if !readyAt(t, after).After(readyAt(t, before)) || after.Metadata.Generation != before.Metadata.Generation || !client.ServiceReady(after) {
		t.Fatalf("after restart: generation %d (was %d), Ready moved %s -> %s, ready %v", after.Metadata.Generation,
			before.Metadata.Generation, readyAt(t, before), readyAt(t, after), client.ServiceReady(after))
	}
	if len(progress) < 3 || !strings.HasPrefix(progress[0], fmt.Sprintf("Restarting service %q", name)) ||
		!strings.Contains(strings.Join(progress, "\n"), "readiness ready") {
		t.Errorf("restart progress %q: want the start, the observed statuses and the end", progress)
	}

	// A stale generation: nothing happens, and the error says why.
	_, diags = p.invoke("nimbus_service_restart", gen(before.Metadata.Generation+5))
	if e := errorsMatching(diags, "Could not restart service", diagnostics.SummaryChangedOutside); len(e) != 1 {
		t.Fatalf("stale generation: diagnostics %+v", diags)
	}
	if again := getService(t, c, name); !readyAt(t, again).Equal(readyAt(t, after)) {
		t.Fatalf("a generation-checked restart with a stale generation restarted the service")
	}
	// The current generation passes.
	_, diags = p.invoke("nimbus_service_restart", gen(before.Metadata.Generation))
	failOnDiags(t, "restart with the current generation", diags)

	// Stop waits until stopped; start waits until ready.
	_, diags = p.invoke("nimbus_service_stop", svc)
	failOnDiags(t, "stop", diags)
	if s := getService(t, c, name); s.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("after stop: %s", s.Status.LifecycleState)
	}
	_, diags = p.invoke("nimbus_service_start", map[string]tftypes.Value{"name": str(name), "wait_until": str(api.WaitHealthy)})
	failOnDiags(t, "start", diags)
	if s := getService(t, c, name); !client.ServiceHealthy(s) {
		t.Fatalf("after start until healthy: %+v", s.Status)
	}

	// A missing service is the server's not-found error.
	_, diags = p.invoke("nimbus_service_stop", map[string]tftypes.Value{"name": str("no-such-service")})
	if e := errorsMatching(diags, `Could not stop service "no-such-service"`); len(e) != 1 {
		t.Errorf("missing service: %+v", diags)
	}

	// Validation names the allowed values.
	diags = p.validateAction("nimbus_service_restart", map[string]tftypes.Value{"name": str(name), "wait_until": str("stopped")})
	if e := errorsMatching(diags, `"ready"`, `"healthy"`, `"none"`); len(e) != 1 {
		t.Errorf("wait_until = stopped on restart: %+v", diags)
	}
	diags = p.validateAction("nimbus_service_stop", map[string]tftypes.Value{"name": str(name), "if_match_generation": tftypes.NewValue(tftypes.Number, 0)})
	if e := errorsMatching(diags, "if_match_generation"); len(e) != 1 {
		t.Errorf("if_match_generation = 0: %+v", diags)
	}
}

// serviceCheck checks the service name through the client.
func serviceCheck(t *testing.T, c *client.Client, name string, check func(s *api.Service) error) resource.TestCheckFunc {
	return func(*terraform.State) error { return check(getService(t, c, name)) }
}

// TestAccServiceRestartAction_trigger restarts a service from action_trigger
// when the resource holding its configuration changes (Terraform 1.14+):
// the Ready condition's transition time moves and the generation does not.
func TestAccServiceRestartAction_trigger(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	name := testAccName("web")
	cfg := func(version string) string {
		return env.Config(`
resource "nimbus_service" "web" {
  name     = "` + name + `"
  built_in = { provider = "loadBalancer" }
}

action "nimbus_service_restart" "web" {
  config {
    name                = nimbus_service.web.name
    if_match_generation = nimbus_service.web.generation
  }
}
` + actionTriggerConfig("app_config", version, "after_update", "action.nimbus_service_restart.web"))
	}
	var ready time.Time
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipUnlessActions,
		CheckDestroy:           checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				Config: cfg("v1"),
				Check: serviceCheck(t, c, name, func(s *api.Service) error {
					ready = readyAt(t, s)
					return nil
				}),
			},
			{
				Config: cfg("v2"),
				Check: serviceCheck(t, c, name, func(s *api.Service) error {
					if !readyAt(t, s).After(ready) {
						return fmt.Errorf("the Ready condition did not move (%s): no restart", ready)
					}
					if s.Metadata.Generation != 1 || !client.ServiceReady(s) {
						return fmt.Errorf("after the restart: generation %d, status %+v", s.Metadata.Generation, s.Status)
					}
					return nil
				}),
			},
		},
	})
}

// TestAccServiceStopStartActions_trigger stops and starts a service that
// Terraform does not manage, from action_trigger (Terraform 1.14+), and
// shows that a stop fights a managed service's desired state: the plan
// after it starts the service again.
func TestAccServiceStopStartActions_trigger(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	unmanaged := testAccName("batch")
	testfixtures.CreateRunningService(t, c, fixtureService(unmanaged))
	managed := testAccName("web")
	cfg := func(verb, input string, extra string) string {
		return env.Config(`
action "nimbus_service_` + verb + `" "batch" {
  config {
    name = "` + unmanaged + `"
  }
}
` + actionTriggerConfig("run", input, "after_update", "action.nimbus_service_"+verb+".batch") + extra)
	}
	state := func(name, want string) resource.TestCheckFunc {
		return serviceCheck(t, c, name, func(s *api.Service) error {
			if s.Status.LifecycleState != want {
				return fmt.Errorf("service %s is %s, want %s", name, s.Status.LifecycleState, want)
			}
			return nil
		})
	}
	managedStop := `
resource "nimbus_service" "web" {
  name     = "` + managed + `"
  built_in = { provider = "loadBalancer" }
}

action "nimbus_service_stop" "web" {
  config {
    name = nimbus_service.web.name
  }
}
` + actionTriggerConfig("stop_web", "PLACEHOLDER", "after_update", "action.nimbus_service_stop.web")
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipUnlessActions,
		Steps: []resource.TestStep{
			{Config: cfg("stop", "1", ""), Check: state(unmanaged, api.ServiceRunning)},
			{Config: cfg("stop", "2", ""), Check: state(unmanaged, api.ServiceStopped)},
			{Config: cfg("start", "3", ""), Check: state(unmanaged, api.ServiceRunning)},
			// A managed service stopped by the action: the plan after the
			// apply starts it again, as the docs say.
			{Config: cfg("start", "4", strings.Replace(managedStop, "PLACEHOLDER", "a", 1))},
			{
				Config:             cfg("start", "4", strings.Replace(managedStop, "PLACEHOLDER", "b", 1)),
				Check:              state(managed, api.ServiceStopped),
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// TestAccServiceRestartAction_invalid fails validation before anything runs.
func TestAccServiceRestartAction_invalid(t *testing.T) {
	env := newTestServer(t)
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipUnlessActions,
		Steps: []resource.TestStep{{
			Config: env.Config(`
action "nimbus_service_restart" "web" {
  config {
    name       = "web"
    wait_until = "stopped"
  }
}
` + actionTriggerConfig("x", "1", "after_create", "action.nimbus_service_restart.web")),
			ExpectError: regexp.MustCompile(`(?s)wait_until.*"ready".*"healthy".*"none"`),
		}},
	})
}

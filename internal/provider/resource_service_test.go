package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func sandboxServiceConfig(name, image, labels, extra string) string {
	return fmt.Sprintf(`
resource "nimbus_service" "test" {
  name   = %q
  labels = %s
  sandbox = {
    image       = %q
    argv        = ["/bin/app", "--port=8080"]
    environment = { SECRET = "s3cr3t" }
  }
%s
}
`, name, labels, image, extra)
}

// TestAccService_sandbox covers a sandbox-backed service through its life:
// create (running and ready on return), import, labels in place
// (generation+1), a backend change that rolls it, restart_triggers, stop and
// start.
func TestAccService_sandbox(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	name := testAccName("sbx")
	// The sandbox is kept across restarts; the Ready condition's transition
	// time shows that a restart (or roll) happened.
	restarts := statecheck.CompareValue(compare.ValuesDiffer())

	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "a" }`, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectUnknownValue(svcAddr, tfpath("generation")),
				}, PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "id", knownvalue.StringExact(env.Tenant+"/"+name)),
					stateIs(svcAddr, "tenant_id", knownvalue.StringExact(env.Tenant)),
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
					stateIs(svcAddr, "readiness", knownvalue.StringExact(api.ReadinessReady)),
					stateIs(svcAddr, "generation", knownvalue.Int64Exact(1)),
					stateIs(svcAddr, "observed_generation", knownvalue.Int64Exact(1)),
					stateIs(svcAddr, "running", knownvalue.Bool(true)),
					stateIs(svcAddr, "wait_until", knownvalue.StringExact("ready")),
					stateIs(svcAddr, "sandbox", knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"backend": knownvalue.StringExact("container"),
						"image":   knownvalue.StringExact("example/app:1"),
						"argv":    knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("/bin/app"), knownvalue.StringExact("--port=8080")}),
					})),
					stateIs(svcAddr, "sandbox_id", knownvalue.NotNull()),
					restarts.AddStateValue(svcAddr, tfpath("conditions")),
				},
			},
			// Import by name and by tenant/name: only the redacted launch
			// inputs cannot be recovered.
			{
				ResourceName:            svcAddr,
				ImportState:             true,
				ImportStateId:           name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"sandbox.argv", "sandbox.environment"},
			},
			{
				ResourceName:            svcAddr,
				ImportState:             true,
				ImportStateId:           env.Tenant + "/" + name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"sandbox.argv", "sandbox.environment"},
			},
			// Labels change in place: generation+1, honest plan.
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "b", tier = "web" }`, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(svcAddr, tfpath("generation")),
					plancheck.ExpectKnownValue(svcAddr, tfpath("id"), knownvalue.StringExact(env.Tenant+"/"+name)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "generation", knownvalue.Int64Exact(2)),
					stateIs(svcAddr, "labels", knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("b"), "tier": knownvalue.StringExact("web"),
					})),
				},
			},
			// A backend change of a running service rolls it: apply returns
			// once the new generation is observed and ready.
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:2", `{ team = "b", tier = "web" }`, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "generation", knownvalue.Int64Exact(3)),
					stateIs(svcAddr, "observed_generation", knownvalue.Int64Exact(3)),
					stateIs(svcAddr, "readiness", knownvalue.StringExact(api.ReadinessReady)),
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
					stateIs(svcAddr, "sandbox", knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"image": knownvalue.StringExact("example/app:2"),
					})),
					restarts.AddStateValue(svcAddr, tfpath("conditions")),
				},
			},
			// A restart trigger restarts it in place.
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:2", `{ team = "b", tier = "web" }`,
					`  restart_triggers = { config = "v2" }`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
					stateIs(svcAddr, "generation", knownvalue.Int64Exact(3)),
					restarts.AddStateValue(svcAddr, tfpath("conditions")),
				},
			},
			// running = false stops it.
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:2", `{ team = "b", tier = "web" }`,
					`  restart_triggers = { config = "v2" }
  running = false`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceStopped)),
					stateIs(svcAddr, "running", knownvalue.Bool(false)),
				},
			},
			// And running = true starts it again.
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:2", `{ team = "b", tier = "web" }`,
					`  restart_triggers = { config = "v2" }`)),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
					stateIs(svcAddr, "readiness", knownvalue.StringExact(api.ReadinessReady)),
				},
			},
		},
	})
}

func TestAccService_builtIn(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	name := testAccName("lb")
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				Config: env.Config(fmt.Sprintf(`
resource "nimbus_service" "test" {
  name     = %q
  built_in = { provider = "loadBalancer" }
}`, name)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
					stateIs(svcAddr, "readiness", knownvalue.StringExact(api.ReadinessReady)),
					stateIs(svcAddr, "built_in", knownvalue.ObjectExact(map[string]knownvalue.Check{
						"provider": knownvalue.StringExact(api.ProviderLoadBalancer),
					})),
					stateIs(svcAddr, "sandbox", knownvalue.Null()),
					stateIs(svcAddr, "labels", knownvalue.Null()),
				},
			},
			{ResourceName: svcAddr, ImportState: true, ImportStateId: name, ImportStateVerify: true},
			// A malformed import ID says which forms are accepted.
			{
				ResourceName: svcAddr, ImportState: true, ImportStateId: "acc/" + name + "/extra",
				ExpectError: regexp.MustCompile(`(?s)Invalid import ID.*NAME or TENANT/NAME`),
			},
			// An import block plans no change at all.
			{
				Config: env.Config(fmt.Sprintf(`
import {
  to = nimbus_service.again
  id = %q
}
resource "nimbus_service" "again" {
  name     = %q
  built_in = { provider = "loadBalancer" }
}
resource "nimbus_service" "test" {
  name     = %q
  built_in = { provider = "loadBalancer" }
}`, env.Tenant+"/"+name, name, name)),
				PlanOnly: true,
			},
		},
	})
}

// healthServer is a loopback HTTP server whose /healthz turns 200 after delay.
func healthServer(t *testing.T, delay time.Duration, wantToken string) *httptest.Server {
	t.Helper()
	healthyAt := time.Now().Add(delay)
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if wantToken != "" && r.Header.Get("Authorization") != "Bearer "+wantToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/healthz" || time.Now().Before(healthyAt) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestAccService_externalHealthy: wait_until = "healthy" against a loopback
// server that only turns healthy after a delay.
func TestAccService_externalHealthy(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	requireLocalServer(t, env)
	name := testAccName("ext")
	hs := healthServer(t, 1500*time.Millisecond, "hc-token")
	cfg := env.Config(fmt.Sprintf(`
resource "nimbus_service" "test" {
  name       = %q
  wait_until = "healthy"
  external = {
    url         = %q
    health_path = "/healthz"
    auth        = { kind = "bearer", token = "hc-token" }
  }
}`, name, hs.URL))
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "health", knownvalue.StringExact(api.HealthHealthy)),
					stateIs(svcAddr, "readiness", knownvalue.StringExact(api.ReadinessReady)),
					stateIs(svcAddr, "external", knownvalue.ObjectExact(map[string]knownvalue.Check{
						"url":         knownvalue.StringExact(hs.URL),
						"health_path": knownvalue.StringExact("/healthz"),
						"auth": knownvalue.ObjectExact(map[string]knownvalue.Check{
							"kind": knownvalue.StringExact("bearer"), "token": knownvalue.StringExact("hc-token"),
							"token_wo": knownvalue.Null(), "token_wo_version": knownvalue.Null(),
						}),
					})),
				},
			},
			{
				ResourceName: svcAddr, ImportState: true, ImportStateId: name, ImportStateVerify: true,
				// The token is redacted by the API; wait_until is not server data.
				ImportStateVerifyIgnore: []string{"external.auth.token", "wait_until"},
			},
		},
	})
}

// TestAccService_externalDeadPort: a dead loopback port and a short create
// timeout fail with the last observed status.
func TestAccService_externalDeadPort(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	name := testAccName("dead")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: env.Config(fmt.Sprintf(`
resource "nimbus_service" "test" {
  name       = %q
  wait_until = "healthy"
  external   = { url = %q }
  timeouts {
    create = "2s"
  }
}`, name, dead)),
			ExpectError: regexp.MustCompile(`(?s)did not become healthy.*Last observed status: state`),
		}},
	})
}

// TestAccService_outOfBand: a delete outside Terraform is recreated; an
// update outside Terraform shows as drift and apply restores the
// configuration.
func TestAccService_outOfBand(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	name := testAccName("oob")
	c := env.Client(t)
	ctx := t.Context()
	cfg := env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "a" }`, ""))
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					labels := map[string]string{"team": "intruder"}
					if err := updateServiceOutOfBand(ctx, c, name, api.UpdateServiceRequest{Labels: &labels}); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "labels", knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("a")})),
					stateIs(svcAddr, "generation", knownvalue.Int64Exact(3)),
				},
			},
			// argv changed outside Terraform: the API redacts it, but its
			// value count changed, so the plan sends the configured argv.
			{
				PreConfig: func() {
					b := testfixtures.SandboxBackend(name, testfixtures.Image, []string{"/bin/other"}, map[string]string{"SECRET": "changed"})
					if err := updateServiceOutOfBand(ctx, c, name, api.UpdateServiceRequest{Backend: &b}); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					svc, err := c.Services.Get(ctx, name)
					if err != nil {
						return err
					}
					if n := svc.Spec.Backend.Sandbox.Process.Argv.Len(); n != 2 {
						return fmt.Errorf("argv has %d values after apply, want the configured 2", n)
					}
					return nil
				},
			},
			{
				PreConfig: func() {
					if _, err := c.Services.Stop(ctx, name, client.ActionOptions{WaitUntil: api.WaitStopped}); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(svcAddr, tfpath("running"), knownvalue.Bool(true)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
				},
			},
			{
				PreConfig: func() {
					if _, err := c.Services.Stop(ctx, name, client.ActionOptions{WaitUntil: api.WaitStopped}); err != nil {
						t.Fatal(err)
					}
					svc, err := c.Services.Get(ctx, name)
					if err != nil {
						t.Fatal(err)
					}
					if err := c.Services.Delete(ctx, name, client.DeleteOptions{IfMatchGeneration: svc.Metadata.Generation}); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "generation", knownvalue.Int64Exact(1)),
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
				},
			},
		},
	})
}

// updateThroughClient is a PreApply plan check that changes the service
// behind Terraform's back after the plan was made.
type updateThroughClient struct {
	c    *client.Client
	name string
}

func (u updateThroughClient) CheckPlan(ctx context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	labels := map[string]string{"team": "someone-else"}
	resp.Error = updateServiceOutOfBand(ctx, u.c, u.name, api.UpdateServiceRequest{Labels: &labels})
}

// TestAccService_changedBetweenPlanAndApply: the apply-time generation check
// rejects the update, the diagnostic says what happened, and the other
// change is kept.
func TestAccService_changedBetweenPlanAndApply(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	name := testAccName("race")
	c := env.Client(t)
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{Config: env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "a" }`, ""))},
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "b" }`, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
					updateThroughClient{c: c, name: name},
				}},
				ExpectError: regexp.MustCompile(`(?s)changed outside Terraform since the last refresh.*terraform apply -refresh-only`),
			},
			{
				PreConfig: func() {
					svc, err := c.Services.Get(t.Context(), name)
					if err != nil {
						t.Fatal(err)
					}
					if got := svc.Metadata.Labels["team"]; got != "someone-else" {
						t.Fatalf("the out-of-band change was overwritten: team = %q", got)
					}
				},
				Config: env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "b" }`, "")),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "labels", knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("b")})),
				},
			},
		},
	})
}

// TestAccService_validation: plan-time errors for bad configurations.
func TestAccService_validation(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	cases := []struct{ cfg, err string }{
		{`name = "Bad_Name"
  built_in = { provider = "browser" }`, `lowercase DNS label`},
		{`name = "two"
  built_in = { provider = "browser" }
  external = { url = "http://127.0.0.1:1" }`, `(?s)Invalid Attribute Combination.*sandbox.*built_in.*external`},
		{`name = "none"`, `(?s)Missing Attribute Configuration.*Exactly one of these attributes must be configured:\s+\[sandbox,built_in,external\]`},
		{`name = "bip"
  built_in = { provider = "mailer" }`, `(?s)value must be one of.*loadBalancer`},
		{`name = "ext"
  external = { url = "ftp://x" }`, `http`},
		{`name = "tok"
  external = { url = "http://127.0.0.1:1", auth = { kind = "bearer" } }`, `Missing bearer token`},
	}
	var steps []resource.TestStep
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{
			Config:      env.Config(fmt.Sprintf("resource \"nimbus_service\" \"test\" {\n  %s\n}\n", tc.cfg)),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(tc.err),
		})
	}
	accTest(t, resource.TestCase{
		Steps: steps,
	})
}

// checkServiceDestroyed verifies the service is gone after destroy.
func checkServiceDestroyed(t *testing.T, env *testAccEnv, name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := env.Client(t).Services.Get(t.Context(), name)
		if err == nil {
			return fmt.Errorf("service %s still exists after destroy", name)
		}
		if !client.IsNotFound(err) {
			return err
		}
		return nil
	}
}

// TestAccService_failedStart: a service whose sandbox cannot start fails the
// apply with the server's message; fixing the configuration replaces it.
func TestAccService_failedStart(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	requireLocalServer(t, env) // the simulated runtime fails images from fail.nimbus.invalid
	name := testAccName("fail")
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				Config:      env.Config(sandboxServiceConfig(name, "fail.nimbus.invalid/app:1", `{}`, "")),
				ExpectError: regexp.MustCompile(`(?s)the service failed.*Server message: .*fail\.nimbus\.invalid/app:1`),
			},
			{
				Config: env.Config(sandboxServiceConfig(name, "example/app:1", `{}`, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
				},
			},
		},
	})
}

// TestAccService_otherTenant: tenant_id on the resource overrides the
// provider's tenant; import by TENANT/NAME restores it.
func TestAccService_otherTenant(t *testing.T) {
	t.Parallel()
	env := newTestServer(t, testserver.WithTenants("acc", "other"))
	requireLocalServer(t, env)
	name := testAccName("ten")
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: env.Config(fmt.Sprintf(`
resource "nimbus_service" "test" {
  name      = %q
  tenant_id = "other"
  built_in  = { provider = "modelGateway" }
}`, name)),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "id", knownvalue.StringExact("other/"+name)),
					stateIs(svcAddr, "tenant_id", knownvalue.StringExact("other")),
				},
				Check: func(*terraform.State) error {
					if _, err := env.Client(t).Services.Get(t.Context(), name, client.InTenant("other")); err != nil {
						return fmt.Errorf("service not in tenant other: %w", err)
					}
					if _, err := env.Client(t).Services.Get(t.Context(), name); !client.IsNotFound(err) {
						return fmt.Errorf("service unexpectedly in the provider's tenant (err %w)", err)
					}
					return nil
				},
			},
			{ResourceName: svcAddr, ImportState: true, ImportStateId: "other/" + name, ImportStateVerify: true},
		},
	})
}

// readyTransition returns the Ready condition's last transition time.
func readyTransition(t *testing.T, c *client.Client, name string) time.Time {
	t.Helper()
	svc, err := c.Services.Get(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	for _, cd := range svc.Status.Conditions {
		if cd.Type == api.ConditionReady {
			return cd.LastTransitionTime
		}
	}
	t.Fatalf("service %s has no Ready condition", name)
	return time.Time{}
}

// TestAccService_importKeepsRunning: importing a running service whose
// configuration has restart_triggers does not restart it (they cannot be
// imported); a later change of the triggers does.
func TestAccService_importKeepsRunning(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	c := env.Client(t)
	name := testAccName("imp")
	testfixtures.CreateRunningService(t, c, testfixtures.BuiltInService(name, api.ProviderServiceDiscovery, nil))
	var before time.Time
	cfg := func(v string) string {
		return env.Config(fmt.Sprintf(`
import {
  to = nimbus_service.test
  id = %q
}
resource "nimbus_service" "test" {
  name             = %q
  built_in         = { provider = "serviceDiscovery" }
  restart_triggers = { v = %q }
}`, name, name, v))
	}
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { before = readyTransition(t, c, name) },
				Config:    cfg("1"),
				Check: func(*terraform.State) error {
					if after := readyTransition(t, c, name); !after.Equal(before) {
						return fmt.Errorf("the import restarted the service (Ready changed at %s)", after)
					}
					return nil
				},
			},
			{
				Config: cfg("2"),
				Check: func(*terraform.State) error {
					if after := readyTransition(t, c, name); after.Equal(before) {
						return fmt.Errorf("changing restart_triggers did not restart the service")
					}
					return nil
				},
			},
		},
	})
}

// TestAccService_importThenApplyDoesNotRoll: after importing a running
// sandbox-backed service, the first apply sends the configured argv and
// environment (the API never returns them). When they equal the server's,
// the update changes nothing: same generation, no roll; the next plan is
// empty. (Values that differ are a real change and roll the service.)
func TestAccService_importThenApplyDoesNotRoll(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	c := env.Client(t)
	name := testAccName("adopt")
	testfixtures.CreateRunningService(t, c, testfixtures.SandboxService(name, testfixtures.Image,
		[]string{"/bin/app", "--port=8080"}, map[string]string{"SECRET": "s3cr3t"}, nil))
	var before time.Time
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{{
			PreConfig: func() { before = readyTransition(t, c, name) },
			Config: env.Config(fmt.Sprintf(`
import {
  to = nimbus_service.test
  id = %q
}
`, name), sandboxServiceConfig(name, "example/app:1", "null", "")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs(svcAddr, "generation", knownvalue.Int64Exact(1)),
				stateIs(svcAddr, "sandbox", knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"argv":        knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("/bin/app"), knownvalue.StringExact("--port=8080")}),
					"environment": knownvalue.MapExact(map[string]knownvalue.Check{"SECRET": knownvalue.StringExact("s3cr3t")}),
				})),
			},
			Check: func(*terraform.State) error {
				if after := readyTransition(t, c, name); !after.Equal(before) {
					return fmt.Errorf("the first apply after the import rolled the service (Ready changed at %s)", after)
				}
				return nil
			},
		}},
	})
}

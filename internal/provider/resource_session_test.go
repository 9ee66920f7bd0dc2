package provider

import (
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

func TestFormatDuration(t *testing.T) {
	for in, want := range map[time.Duration]string{
		15 * time.Minute:                "15m",
		2 * time.Hour:                   "2h",
		90 * time.Minute:                "1h30m",
		90 * time.Second:                "1m30s",
		time.Second:                     "1s",
		24 * time.Hour:                  "24h",
		time.Hour + time.Second:         "1h0m1s",
		1500 * time.Millisecond:         "1.5s",
		10*time.Minute + 30*time.Second: "10m30s",
	} {
		if got := formatDuration(in); got != want {
			t.Errorf("formatDuration(%s) = %q, want %q", in, got, want)
		}
	}
}

func sessionOnServiceConfig(service, ttl string) string {
	return fmt.Sprintf(`
resource "nimbus_session" "test" {
  service_name = %q
  channels     = ["stdio", "files"]
  ttl          = %q
}
`, service, ttl)
}

// A session on a running service: snapshot, import, destroy closes it.
func TestAccSession_service(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	web := testAccName("web")
	svc := testfixtures.CreateRunningService(t, c, fixtureService(web))
	accTest(t, resource.TestCase{
		CheckDestroy: checkSessionsClosed(t, c),
		Steps: []resource.TestStep{
			{
				Config: env.Config(sessionOnServiceConfig(web, "10m")),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sesAddr, "id", knownvalue.StringRegexp(regexp.MustCompile(`^ses-`))),
					stateIs(sesAddr, "lifecycle_state", knownvalue.StringExact(api.SessionOpen)),
					stateIs(sesAddr, "tenant_id", knownvalue.StringExact(env.Tenant)),
					stateIs(sesAddr, "target_snapshot", knownvalue.ObjectExact(map[string]knownvalue.Check{
						"kind":         knownvalue.StringExact("service"),
						"name":         knownvalue.StringExact(web),
						"id":           knownvalue.Null(),
						"generation":   knownvalue.Int64Exact(svc.Metadata.Generation),
						"backend_kind": knownvalue.StringExact(api.BackendKindBuiltIn),
						"runtime":      knownvalue.Null(),
						"provider":     knownvalue.StringExact(api.ProviderLoadBalancer),
					})),
				},
				Check: func(s *terraform.State) error {
					rs := s.RootModule().Resources[sesAddr]
					ses, err := c.Sessions.Get(t.Context(), rs.Primary.ID)
					if err != nil {
						return err
					}
					if got := ses.Spec.RequestedTTLMs; got != 600000 {
						return fmt.Errorf("requestedTtlMs = %d, want 600000", got)
					}
					want := ses.Spec.ExpiresAt.UTC().Format(time.RFC3339Nano)
					if got := rs.Primary.Attributes["expires_at"]; got != want {
						return fmt.Errorf("expires_at = %s, server says %s", got, want)
					}
					return nil
				},
			},
			{
				ResourceName:      sesAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
		},
	})
}

// A session on a running standalone sandbox pins the sandbox's generation:
// a later label change (generation 2) leaves the session alone.
func TestAccSession_sandboxPinsGeneration(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	cfg := func(label string) string {
		return env.Config(fmt.Sprintf(`
resource "nimbus_sandbox" "target" {
  profile = "desktop"
  backend = "krun"
  image   = "registry.example.com/chromium:126"
  labels  = { rev = %q }
}

resource "nimbus_session" "test" {
  sandbox_id = nimbus_sandbox.target.id
  channels   = ["cdp", "page"]
}
`, label))
	}
	snapshot := func(gen int64) statecheck.StateCheck {
		return stateIs(sesAddr, "target_snapshot", knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"kind":         knownvalue.StringExact("sandbox"),
			"generation":   knownvalue.Int64Exact(gen),
			"backend_kind": knownvalue.StringExact(api.BackendKindSandbox),
			"runtime":      knownvalue.StringExact(api.RuntimeKrun),
		}))
	}
	var sessionID string
	accTest(t, resource.TestCase{
		CheckDestroy: resource.ComposeTestCheckFunc(checkSessionsClosed(t, c), checkSandboxesGone(t, c)),
		Steps: []resource.TestStep{
			{
				Config: cfg("1"),
				ConfigStateChecks: []statecheck.StateCheck{
					snapshot(1),
					stateIs(sesAddr, "ttl", knownvalue.StringExact("15m")),
					statecheck.CompareValuePairs(sesAddr, tfpath("target_snapshot").AtMapKey("id"),
						"nimbus_sandbox.target", tfpath("id"), compare.ValuesSame()),
				},
				Check: captureAttr(sesAddr, "id", &sessionID),
			},
			{
				Config: cfg("2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("nimbus_sandbox.target", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(sesAddr, plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("nimbus_sandbox.target", "generation", knownvalue.Int64Exact(2)),
					snapshot(1),
				},
				Check: resource.TestCheckResourceAttrPtr(sesAddr, "id", &sessionID),
			},
		},
	})
}

// Expiry: once the provider's clock passes expires_at, a plan shows the
// replacement even without a refresh; once the server expires the session,
// refresh drops it and apply opens a new one. No sleeping: the test moves
// the server's fake clock and the provider's clock.
func TestAccSession_expiry(t *testing.T) {
	fake := clock.NewFake(time.Now())
	env := newTestServer(t, withFakeClock(fake))
	requireLocalServer(t, env)
	c := env.Client(t)
	web := testAccName("web")
	testfixtures.CreateRunningService(t, c, fixtureService(web))
	// The provider's clock is the server's fake clock plus skew.
	var skew atomic.Int64
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"nimbus": providerserver.NewProtocol6WithError(newWithClock("test", skewedClock{fake, &skew})()),
	}
	cfg := env.Config(sessionOnServiceConfig(web, "10m"))
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: factories,
		CheckDestroy:             checkSessionsClosed(t, c),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  captureAttr(sesAddr, "id", &id),
			},
			{
				// The provider's clock is past expires_at, the server has not
				// expired the session yet: the plan already replaces it.
				PreConfig:          func() { skew.Store(int64(11 * time.Minute)) },
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPreRefresh: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(sesAddr, plancheck.ResourceActionReplace),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(sesAddr, plancheck.ResourceActionReplace),
					},
				},
			},
			{
				// The server's clock passes expires_at: the session expires on the
				// server, refresh drops it, apply opens a new one.
				PreConfig: func() {
					skew.Store(0)
					fake.Advance(11 * time.Minute)
					// The server's expiry timer fires asynchronously.
					state := ""
					for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
						ses, err := c.Sessions.Get(t.Context(), id)
						if err != nil {
							t.Fatal(err)
						}
						if state = ses.Status.LifecycleState; state == api.SessionExpired {
							break
						}
					}
					if state != api.SessionExpired {
						t.Fatalf("after the fake clock passed expiresAt the session is %s, want expired", state)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sesAddr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sesAddr, "lifecycle_state", knownvalue.StringExact(api.SessionOpen)),
				},
				Check: attrDiffers(sesAddr, "id", &id),
			},
		},
	})
}

// A session closed outside Terraform is reopened by the next apply.
func TestAccSession_closedOutOfBand(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	web := testAccName("web")
	testfixtures.CreateRunningService(t, c, fixtureService(web))
	cfg := env.Config(sessionOnServiceConfig(web, "15m"))
	var id string
	accTest(t, resource.TestCase{
		CheckDestroy: checkSessionsClosed(t, c),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  captureAttr(sesAddr, "id", &id),
			},
			{
				PreConfig: func() {
					if _, err := c.Sessions.Close(t.Context(), id, "closed by an operator"); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sesAddr, plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeTestCheckFunc(
					attrDiffers(sesAddr, "id", &id),
					func(*terraform.State) error {
						ses, err := c.Sessions.Get(t.Context(), id)
						if err != nil {
							return err
						}
						if ses.Status.CloseReason != "closed by an operator" {
							return fmt.Errorf("old session's close reason = %q; Terraform must not have touched it", ses.Status.CloseReason)
						}
						return nil
					},
				),
			},
		},
	})
}

// Destroy closes the session with Terraform's reason.
func TestAccSession_destroyCloses(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	web := testAccName("web")
	testfixtures.CreateRunningService(t, c, fixtureService(web))
	var id string
	accTest(t, resource.TestCase{
		CheckDestroy: func(*terraform.State) error {
			ses, err := c.Sessions.Get(t.Context(), id)
			if err != nil {
				return err
			}
			if ses.Status.LifecycleState != api.SessionClosed || ses.Status.CloseReason != sessionCloseReason {
				return fmt.Errorf("session %s is %s (reason %q), want closed with %q", id, ses.Status.LifecycleState, ses.Status.CloseReason, sessionCloseReason)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: env.Config(sessionOnServiceConfig(web, "1h")),
				Check:  captureAttr(sesAddr, "id", &id),
			},
		},
	})
}

// Opening a session on a stopped target fails with the server's op.conflict.
func TestAccSession_stoppedTarget(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	idle := testAccName("idle")
	if _, err := c.Services.Create(t.Context(), testfixtures.BuiltInService(idle, api.ProviderBrowser, nil)); err != nil {
		t.Fatal(err)
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config:      env.Config(sessionOnServiceConfig(idle, "15m")),
				ExpectError: regexp.MustCompile(`(?s)Could not open the session on service.*code\s+op\.conflict`),
			},
		},
	})
}

// Plan-time validation: exactly one target, known channels, ttl range.
func TestAccSession_validation(t *testing.T) {
	env := newTestServer(t)
	for name, tc := range map[string]struct{ body, want string }{
		"no target":    {`channels = ["stdio"]`, `(?s)Invalid Attribute Combination.*service_name.*sandbox_id`},
		"two targets":  {`service_name = "web"` + "\n" + `sandbox_id = "sbx-abc"` + "\n" + `channels = ["stdio"]`, `(?s)Invalid Attribute Combination`},
		"bad channel":  {`service_name = "web"` + "\n" + `channels = ["ssh"]`, `(?s)stdio.*cdp.*page.*files`},
		"ttl too long": {`service_name = "web"` + "\n" + `channels = ["stdio"]` + "\n" + `ttl = "25h"`, `(?s)Duration out of range`},
		"ttl garbage":  {`service_name = "web"` + "\n" + `channels = ["stdio"]` + "\n" + `ttl = "soon"`, `(?s)(Invalid duration|Invalid Time Duration)`},
	} {
		t.Run(name, func(t *testing.T) {
			accTest(t, resource.TestCase{
				Steps: []resource.TestStep{{
					Config:      env.Config("resource \"nimbus_session\" \"test\" {\n" + tc.body + "\n}\n"),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

// TestAccSession_serviceIDSameRun: a session on a service created in the
// same apply, named by the service's id; importing it (which records the
// name) and applying the configuration again changes the spelling in place
// instead of opening a new session.
func TestAccSession_serviceIDSameRun(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	web := testAccName("web")
	cfg := env.Config(fmt.Sprintf(`
resource "nimbus_service" "web" {
  name     = %q
  built_in = { provider = "browser" }
}

resource "nimbus_session" "test" {
  service_id = nimbus_service.web.id
  channels   = ["page"]
}
`, web))
	var sessionID string
	accTest(t, resource.TestCase{
		CheckDestroy: checkSessionsClosed(t, c),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: emptyPlan,
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sesAddr, "service_id", knownvalue.StringExact(env.Tenant+"/"+web)),
					stateIs(sesAddr, "service_name", knownvalue.Null()),
					stateIs(sesAddr, "tenant_id", knownvalue.StringExact(env.Tenant)),
					stateAt(sesAddr, tfpath("target_snapshot").AtMapKey("name"), knownvalue.StringExact(web)),
				},
				Check: captureAttr(sesAddr, "id", &sessionID),
			},
			{
				ResourceName:            sesAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"service_id", "service_name"},
			},
			{
				// Import records the name. Naming the same service by name
				// instead of id (or back) is an in-place change, not a new
				// session, so an import followed by an apply of a
				// configuration using service_id keeps the session.
				Config: strings.Replace(cfg, "service_id = nimbus_service.web.id", "service_name = nimbus_service.web.name", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(sesAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: emptyPlan,
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sesAddr, "service_name", knownvalue.StringExact(web)),
					stateIs(sesAddr, "service_id", knownvalue.Null()),
				},
				Check: resource.TestCheckResourceAttrPtr(sesAddr, "id", &sessionID),
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(sesAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: emptyPlan,
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sesAddr, "service_id", knownvalue.StringExact(env.Tenant+"/"+web)),
				},
				Check: resource.TestCheckResourceAttrPtr(sesAddr, "id", &sessionID),
			},
		},
	})
}

// skewedClock is a fake clock read with a skew.
type skewedClock struct {
	*clock.Fake
	skew *atomic.Int64
}

func (c skewedClock) Now() time.Time { return c.Fake.Now().Add(time.Duration(c.skew.Load())) }

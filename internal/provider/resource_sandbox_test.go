package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

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

func sandboxConfig(image, labels string) string {
	return fmt.Sprintf(`
resource "nimbus_sandbox" "test" {
  display_name = "acceptance"
  image        = %q
  argv         = ["/bin/worker", "--once"]
  environment  = { MODE = "test", TOKEN = "t0ps3cret" }
  labels       = %s
}
`, image, labels)
}

func TestAccSandbox_basic(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	var id string
	accTest(t, resource.TestCase{
		CheckDestroy: checkSandboxesGone(t, c),
		Steps: []resource.TestStep{
			{
				// Create → running; the plan after apply and refresh is empty.
				Config:           env.Config(sandboxConfig("docker.io/library/alpine:3", `{ team = "a" }`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sbxAddr, "id", knownvalue.StringRegexp(regexp.MustCompile(`^sbx-`))),
					stateIs(sbxAddr, "lifecycle_state", knownvalue.StringExact(api.SandboxRunning)),
					stateIs(sbxAddr, "owner_kind", knownvalue.StringExact(api.OwnerKindStandalone)),
					stateIs(sbxAddr, "profile", knownvalue.StringExact(api.ProfileWorker)),
					stateIs(sbxAddr, "backend", knownvalue.StringExact(api.RuntimeContainer)),
					stateIs(sbxAddr, "generation", knownvalue.Int64Exact(1)),
					stateIs(sbxAddr, "tenant_id", knownvalue.StringExact(env.Tenant)),
					stateIs(sbxAddr, "argv",
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("/bin/worker"), knownvalue.StringExact("--once")})),
					stateAt(sbxAddr, tfpath("environment").AtMapKey("MODE"), knownvalue.StringExact("test")),
				},
				Check: resource.ComposeTestCheckFunc(
					captureAttr(sbxAddr, "id", &id),
					func(*terraform.State) error { return expectSandboxOnServer(t, c, id, api.SandboxRunning, 2, 2) },
				),
			},
			{
				// Import: everything but the launch inputs the API redacts.
				ResourceName:            sbxAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"argv", "environment"},
			},
			{
				// Labels change in place, generation-checked; generation +1.
				Config: env.Config(sandboxConfig("docker.io/library/alpine:3", `{ team = "b", tier = "gold" }`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionUpdate),
					// The server sets the new generation: honest plan, no stale value.
					plancheck.ExpectUnknownValue(sbxAddr, tfpath("generation")),
					plancheck.ExpectKnownValue(sbxAddr, tfpath("id"), knownvalue.StringRegexp(regexp.MustCompile(`^sbx-`))),
				}, PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sbxAddr, "generation", knownvalue.Int64Exact(2)),
					stateIs(sbxAddr, "labels",
						knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("b"), "tier": knownvalue.StringExact("gold")})),
				},
				Check: resource.TestCheckResourceAttrPtr(sbxAddr, "id", &id),
			},
			{
				// Any spec change replaces the sandbox.
				Config: env.Config(sandboxConfig("docker.io/library/alpine:3.20", `{ team = "b", tier = "gold" }`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionReplace),
				}, PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sbxAddr, "lifecycle_state", knownvalue.StringExact(api.SandboxRunning)),
					stateIs(sbxAddr, "image", knownvalue.StringExact("docker.io/library/alpine:3.20")),
				},
				Check: attrDiffers(sbxAddr, "id", &id),
			},
		},
	})
}

// expectSandboxOnServer checks the server's view of a sandbox: state and the
// redacted launch-input counts.
func expectSandboxOnServer(t *testing.T, c *client.Client, id, state string, argv, env int) error {
	sb, err := c.Sandboxes.Get(t.Context(), id)
	if err != nil {
		return err
	}
	if sb.Status.LifecycleState != state {
		return fmt.Errorf("sandbox %s is %s, want %s", id, sb.Status.LifecycleState, state)
	}
	if got := sb.Spec.Process.Argv.Len(); got != argv {
		return fmt.Errorf("sandbox %s has %d argv values, want %d", id, got, argv)
	}
	if got := sb.Spec.Process.Environment.Len(); got != env {
		return fmt.Errorf("sandbox %s has %d environment entries, want %d", id, got, env)
	}
	return nil
}

// After an import, configured argv/environment whose counts match the
// server's are adopted in place instead of replacing the sandbox.
func TestAccSandbox_importAdoptsLaunchInputs(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	id := testfixtures.CreateRunningSandbox(t, c, testfixtures.StandaloneSandbox("acceptance", "docker.io/library/alpine:3",
		[]string{"/bin/worker", "--once"}, map[string]string{"MODE": "test", "TOKEN": "t0ps3cret"}, map[string]string{"team": "a"})).Metadata.ID
	accTest(t, resource.TestCase{
		CheckDestroy: checkSandboxesGone(t, c),
		Steps: []resource.TestStep{
			{
				// An import block (Terraform 1.5+, OpenTofu): the plan imports the
				// sandbox and adopts the configured argv/environment in place.
				Config: env.Config(fmt.Sprintf(`
import {
  to = nimbus_sandbox.test
  id = "%s/%s"
}
`, env.Tenant, id), sandboxConfig("docker.io/library/alpine:3", `{ team = "a" }`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sbxAddr, "id", knownvalue.StringExact(id)),
					stateIs(sbxAddr, "argv", knownvalue.ListSizeExact(2)),
					stateAt(sbxAddr, tfpath("environment").AtMapKey("MODE"), knownvalue.StringExact("test")),
				},
			},
			{
				// From now on argv is known: a change replaces the sandbox.
				Config: env.Config(`
resource "nimbus_sandbox" "test" {
  display_name = "acceptance"
  image        = "docker.io/library/alpine:3"
  argv         = ["/bin/worker", "--twice"]
  environment  = { MODE = "test", TOKEN = "t0ps3cret" }
  labels       = { team = "a" }
}
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionReplace),
				}},
			},
		},
	})
}

// A sandbox stopped outside Terraform is planned for replacement and the
// next apply brings a running one back; one deleted outside Terraform is
// recreated.
func TestAccSandbox_outOfBand(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	var id string
	cfg := env.Config(sandboxConfig("docker.io/library/alpine:3", `{ team = "a" }`))
	accTest(t, resource.TestCase{
		CheckDestroy: checkSandboxesGone(t, c),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  captureAttr(sbxAddr, "id", &id),
			},
			{
				PreConfig: func() {
					if _, err := c.Sandboxes.Stop(t.Context(), id, client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 30 * time.Second}); err != nil {
						t.Fatalf("out-of-band stop: %v", err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionReplace),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sbxAddr, "lifecycle_state", knownvalue.StringExact(api.SandboxRunning)),
				},
				Check: resource.ComposeTestCheckFunc(
					attrDiffers(sbxAddr, "id", &id),
					func(*terraform.State) error {
						// The stopped sandbox was deleted by the replacement.
						if _, err := c.Sandboxes.Get(t.Context(), id); !client.IsNotFound(err) {
							return fmt.Errorf("old sandbox %s: want not found, got %w", id, err)
						}
						return nil
					},
					captureAttr(sbxAddr, "id", &id),
				),
			},
			{
				PreConfig: func() {
					ctx := t.Context()
					if err := c.Sandboxes.Delete(ctx, id, client.SandboxDeleteOptions{Force: true, IfMatchGeneration: 1}); err != nil {
						t.Fatalf("out-of-band delete: %v", err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionCreate),
				}},
				Check: attrDiffers(sbxAddr, "id", &id),
			},
		},
	})
}

// A sandbox whose start fails ends the create with the server's message.
func TestAccSandbox_startFails(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	accTest(t, resource.TestCase{
		CheckDestroy: checkSandboxesGone(t, c),
		Steps: []resource.TestStep{
			{
				Config:      env.Config(sandboxConfig("fail.nimbus.invalid/app:1", `{ team = "a" }`)),
				ExpectError: regexp.MustCompile(`(?s)failed.*image\s+"fail\.nimbus\.invalid/app:1"\s+failed\s+to\s+start`),
			},
		},
	})
}

// A service-owned sandbox cannot be imported as a standalone one.
func TestAccSandbox_serviceOwnedImportRejected(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	owner := testAccName("owner")
	svc := testfixtures.CreateRunningService(t, c, testfixtures.SandboxService(owner, "docker.io/library/nginx:1", nil, nil, nil))
	if svc.Status.SandboxID == "" {
		t.Fatal("the running service reports no sandbox id")
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: env.Config(fmt.Sprintf(`
import {
  to = nimbus_sandbox.test
  id = %q
}

resource "nimbus_sandbox" "test" {
  image = "docker.io/library/nginx:1"
}
`, svc.Status.SandboxID)),
				ExpectError: regexp.MustCompile(`(?s)owned by a service.*nimbus_service`),
			},
		},
	})
}

// Write-only environment: the secret reaches the server but never the state;
// bumping the version replaces the sandbox. Needs write-only attributes
// (OpenTofu 1.11+; skipped on Terraform 1.8).
func TestAccSandbox_writeOnlyEnvironment(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	const secret1, secret2 = "wo-secret-value-one", "wo-secret-value-two"
	workDirs := isolateWorkDirs(t)
	cfg := func(secret string, version int) string {
		return env.Config(fmt.Sprintf(`
resource "nimbus_sandbox" "test" {
  image                  = "docker.io/library/alpine:3"
  argv                   = ["/bin/agent"]
  environment_wo         = { API_TOKEN = %q, REGION = "eu" }
  environment_wo_version = %d
}
`, secret, version))
	}
	var id string
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowWriteOnly,
		CheckDestroy:           checkSandboxesGone(t, c),
		Steps: []resource.TestStep{
			{
				Config: cfg(secret1, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sbxAddr, "environment_wo", knownvalue.Null()),
					stateIs(sbxAddr, "environment", knownvalue.Null()),
					stateNeverContains{secret: secret1},
				},
				Check: resource.ComposeTestCheckFunc(
					captureAttr(sbxAddr, "id", &id),
					// The server got both entries (it reports their count).
					func(*terraform.State) error { return expectSandboxOnServer(t, c, id, api.SandboxRunning, 1, 2) },
					stateFileNeverContains(workDirs, secret1),
				),
			},
			{
				Config: cfg(secret2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionReplace),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sbxAddr, "environment_wo_version", knownvalue.Int64Exact(2)),
					stateNeverContains{secret: secret2},
				},
				Check: resource.ComposeTestCheckFunc(
					attrDiffers(sbxAddr, "id", &id),
					stateFileNeverContains(workDirs, secret2),
				),
			},
		},
	})
}

// environment and environment_wo conflict at plan time.
func TestAccSandbox_environmentConflict(t *testing.T) {
	env := newTestServer(t)
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowWriteOnly,
		Steps: []resource.TestStep{
			{
				Config: env.Config(`
resource "nimbus_sandbox" "test" {
  image          = "docker.io/library/alpine:3"
  environment    = { A = "1" }
  environment_wo = { B = "2" }
}
`),
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination`),
			},
		},
	})
}

// Plan-time validation of the sandbox's inputs, before any API call.
func TestAccSandbox_validation(t *testing.T) {
	env := newTestServer(t)
	for name, tc := range map[string]struct{ body, want string }{
		"profile":    {`profile = "gpu"`, `(?s)profile.*worker.*desktop`},
		"backend":    {`backend = "vm"`, `(?s)backend.*container.*krun`},
		"env name":   {`environment = { "1BAD" = "x" }`, `(?s)Invalid environment variable name`},
		"label":      {`labels = { "team" = "no spaces allowed" }`, `(?s)Invalid labels`},
		"image":      {`image = "alpine 3"`, `(?s)whitespace`},
		"wo version": {`environment_wo_version = 1`, `(?s)environment_wo`},
	} {
		t.Run(name, func(t *testing.T) {
			body := tc.body
			if !regexp.MustCompile(`^image`).MatchString(body) {
				body = `image = "docker.io/library/alpine:3"` + "\n" + body
			}
			accTest(t, resource.TestCase{
				Steps: []resource.TestStep{{
					Config:      env.Config("resource \"nimbus_sandbox\" \"test\" {\n" + body + "\n}\n"),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

// tenant_id on the resource overrides the provider's tenant; import by
// TENANT/ID finds it there.
func TestAccSandbox_tenantOverride(t *testing.T) {
	env := newTestServer(t, testserver.WithTenants("acc", "other"))
	requireLocalServer(t, env)
	c := env.Client(t)
	var id string
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: env.Config(`
resource "nimbus_sandbox" "test" {
  tenant_id = "other"
  image     = "docker.io/library/alpine:3"
  argv      = ["/bin/true"]
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(sbxAddr, "tenant_id", knownvalue.StringExact("other")),
				},
				Check: resource.ComposeTestCheckFunc(
					captureAttr(sbxAddr, "id", &id),
					func(*terraform.State) error {
						if _, err := c.Sandboxes.Get(t.Context(), id); !client.IsNotFound(err) {
							return fmt.Errorf("sandbox %s in the provider's tenant: want not found, got %w", id, err)
						}
						_, err := c.Sandboxes.Get(t.Context(), id, client.InTenant("other"))
						return err
					},
				),
			},
			{
				ResourceName:            sbxAddr,
				ImportState:             true,
				ImportStateIdFunc:       func(*terraform.State) (string, error) { return "other/" + id, nil },
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"argv", "environment"},
			},
		},
	})
}

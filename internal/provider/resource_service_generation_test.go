package provider

// A refused operation changes nothing: every stop, start, restart and delete
// the provider sends carries the generation Terraform last read, so a saved
// plan applied after someone changed the object outside Terraform fails with
// the precondition diagnostic and leaves the object as it was.

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// changedOutside matches the precondition diagnostic (op.precondition_failed).
var changedOutside = regexp.MustCompile(`(?s)changed outside Terraform since the last refresh.*was NOT applied`)

// outOfBand is a PreApply plan check that makes a change outside Terraform
// after the plan was saved and before it is applied: what happens between
// `terraform plan -out=p` and `terraform apply p`.
type outOfBand func(ctx context.Context) error

func (f outOfBand) CheckPlan(ctx context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = f(ctx)
}

// relabelService replaces the service's labels through the Go client.
func relabelService(c *client.Client, name string) outOfBand {
	return func(ctx context.Context) error {
		labels := map[string]string{"changed": "outside"}
		return updateServiceOutOfBand(ctx, c, name, api.UpdateServiceRequest{Labels: &labels})
	}
}

// expectServiceUntouched fails the test unless the service is in state and
// still carries the out-of-band labels.
func expectServiceUntouched(t *testing.T, c *client.Client, name, state string) *api.Service {
	t.Helper()
	svc, err := c.Services.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("service %s after the refused apply: %v", name, err)
	}
	if got := svc.Status.LifecycleState; got != state {
		t.Fatalf("service %s is %s after the refused apply, want %s: a refused operation changed it", name, got, state)
	}
	if svc.Metadata.Labels["changed"] != "outside" {
		t.Fatalf("the out-of-band labels were overwritten: %v", svc.Metadata.Labels)
	}
	return svc
}

// TestAccService_destroyChangedOutside: `plan -destroy -out`, an
// out-of-band change, `apply`: the destroy is refused and the service is
// still running (it used to be stopped first, then the delete was refused).
func TestAccService_destroyChangedOutside(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	c := env.Client(t)
	name := testAccName("dstr")
	cfg := env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "a" }`, ""))
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				Config:  cfg,
				Destroy: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionDestroy),
					relabelService(c, name),
				}},
				ExpectError: changedOutside,
			},
			{
				PreConfig: func() { expectServiceUntouched(t, c, name, api.ServiceRunning) },
				Config:    cfg,
			},
		},
	})
}

// TestAccService_lifecycleChangedOutside: a saved plan that stops, starts
// or restarts the service, applied after an out-of-band change, fails with
// the precondition diagnostic and stops, starts or restarts nothing.
func TestAccService_lifecycleChangedOutside(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		before, after string // extra configuration before and in the saved plan
		state         string // the service's state before and after the refused apply
	}{
		{"stop", "", "  running = false", api.ServiceRunning},
		{"start", "  running = false", "", api.ServiceStopped},
		{"restart", `  restart_triggers = { v = "1" }`, `  restart_triggers = { v = "2" }`, api.ServiceRunning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestServer(t)
			c := env.Client(t)
			name := testAccName("lc")
			var before time.Time
			cfg := func(extra string) string {
				return env.Config(sandboxServiceConfig(name, "example/app:1", `{ team = "a" }`, extra))
			}
			accTest(t, resource.TestCase{
				CheckDestroy: checkServiceDestroyed(t, env, name),
				Steps: []resource.TestStep{
					{Config: cfg(tc.before)},
					{
						PreConfig: func() { before = readyTransition(t, c, name) },
						Config:    cfg(tc.after),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
							relabelService(c, name),
						}},
						ExpectError: changedOutside,
					},
					{
						PreConfig: func() {
							expectServiceUntouched(t, c, name, tc.state)
							if after := readyTransition(t, c, name); !after.Equal(before) {
								t.Fatalf("the refused apply restarted, stopped or started the service (Ready changed at %s)", after)
							}
						},
						Config: cfg(tc.after),
					},
				},
			})
		})
	}
}

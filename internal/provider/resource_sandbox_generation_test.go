package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// TestAccSandbox_destroyChangedOutside: the sandbox's destroy is one
// generation-checked forced delete: after an out-of-band label change it is
// refused and the sandbox keeps running (it used to be stopped first).
func TestAccSandbox_destroyChangedOutside(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	c := env.Client(t)
	var id string
	cfg := env.Config(sandboxConfig("docker.io/library/alpine:3", `{ team = "a" }`))
	accTest(t, resource.TestCase{
		CheckDestroy: checkSandboxesGone(t, c),
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureAttr(sbxAddr, "id", &id)},
			{
				Config:  cfg,
				Destroy: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(sbxAddr, plancheck.ResourceActionDestroy),
					outOfBand(func(ctx context.Context) error {
						sb, err := c.Sandboxes.Get(ctx, id)
						if err != nil {
							return err
						}
						labels := map[string]string{"changed": "outside"}
						g := sb.Metadata.Generation
						_, err = c.Sandboxes.Update(ctx, id, api.UpdateSandboxRequest{Labels: &labels, IfMatchGeneration: &g})
						return err
					}),
				}},
				ExpectError: changedOutside,
			},
			{
				PreConfig: func() {
					sb, err := c.Sandboxes.Get(t.Context(), id)
					if err != nil {
						t.Fatalf("sandbox %s after the refused destroy: %v", id, err)
					}
					if sb.Status.LifecycleState != api.SandboxRunning {
						t.Fatalf("sandbox %s is %s after the refused destroy: the refused delete stopped it", id, sb.Status.LifecycleState)
					}
				},
				Config: cfg,
			},
		},
	})
}

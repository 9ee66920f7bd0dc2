package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/diagnostics"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// TestSandboxStopAction_protocol invokes nimbus_sandbox_stop through the
// plugin protocol: it stops and waits, reports progress, refuses a
// service-owned sandbox with the server's error, and checks the generation.
func TestSandboxStopAction_protocol(t *testing.T) {
	env, c := localTestServer(t)
	ctx := t.Context()
	p := newProtoProvider(t, env)

	sb := testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(nil))
	progress, diags := p.invoke("nimbus_sandbox_stop", map[string]tftypes.Value{"id": str(sb.Metadata.ID)})
	failOnDiags(t, "stop", diags)
	got, err := c.Sandboxes.Get(ctx, sb.Metadata.ID)
	if err != nil || got.Status.LifecycleState != api.SandboxStopped {
		t.Fatalf("after stop: %+v %v", got, err)
	}
	if len(progress) < 2 || !strings.HasPrefix(progress[0], "Stopping sandbox "+sb.Metadata.ID) {
		t.Errorf("progress %q", progress)
	}

	// A sandbox owned by a service is stopped through its service.
	name := testAccName("app")
	createTestServicesOwned(t, c, name)
	owned, err := c.Services.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	_, diags = p.invoke("nimbus_sandbox_stop", map[string]tftypes.Value{"id": str(owned.Status.SandboxID)})
	if e := errorsMatching(diags, "Could not stop sandbox "+owned.Status.SandboxID, name); len(e) != 1 {
		t.Errorf("service-owned sandbox: %+v", diags)
	}

	// A stale generation stops nothing.
	other := testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(nil))
	_, diags = p.invoke("nimbus_sandbox_stop", map[string]tftypes.Value{"id": str(other.Metadata.ID),
		"if_match_generation": tftypes.NewValue(tftypes.Number, other.Metadata.Generation+3)})
	if e := errorsMatching(diags, diagnostics.SummaryChangedOutside); len(e) != 1 {
		t.Fatalf("stale generation: %+v", diags)
	}
	if got, _ := c.Sandboxes.Get(ctx, other.Metadata.ID); got.Status.LifecycleState != api.SandboxRunning {
		t.Fatalf("a stale generation-checked stop stopped the sandbox: %s", got.Status.LifecycleState)
	}
}

// createTestServicesOwned creates and starts a sandbox-backed service.
func createTestServicesOwned(t *testing.T, c *client.Client, name string) {
	t.Helper()
	testfixtures.CreateRunningService(t, c, testfixtures.SandboxService(name, testfixtures.Image, nil, nil, nil))
}

// TestAccSandboxStopAction_trigger stops a sandbox Terraform does not manage
// from action_trigger (Terraform 1.14+).
func TestAccSandboxStopAction_trigger(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	sb := testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(nil))
	cfg := func(input string) string {
		return env.Config(`
action "nimbus_sandbox_stop" "job" {
  config {
    id = "` + sb.Metadata.ID + `"
  }
}
` + actionTriggerConfig("done", input, "after_update", "action.nimbus_sandbox_stop.job"))
	}
	stateIsNow := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			got, err := c.Sandboxes.Get(t.Context(), sb.Metadata.ID)
			if err != nil {
				return err
			}
			if got.Status.LifecycleState != want {
				return fmt.Errorf("sandbox is %s, want %s", got.Status.LifecycleState, want)
			}
			return nil
		}
	}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipUnlessActions,
		Steps: []resource.TestStep{
			{Config: cfg("1"), Check: stateIsNow(api.SandboxRunning)},
			{Config: cfg("2"), Check: stateIsNow(api.SandboxStopped)},
		},
	})
}

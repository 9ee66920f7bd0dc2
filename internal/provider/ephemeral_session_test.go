package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// The ephemeral session is opened and closed within one run and never
// reaches the state. Its id flows into a write-only attribute (the only
// place a managed resource accepts an ephemeral value), which also proves
// the session was really opened during apply. Needs ephemeral resources
// (OpenTofu 1.11+; skipped on Terraform 1.8).
func TestAccSessionEphemeral_openedAndClosed(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	target := `
resource "nimbus_sandbox" "target" {
  image = "registry.example.com/chromium:126"
}
`
	var targetID string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   skipBelowWriteOnly,
		CheckDestroy:             checkSandboxesGone(c),
		Steps: []resource.TestStep{
			{
				Config: env.Config(target),
				Check:  captureAttr("nimbus_sandbox.target", "id", &targetID),
			},
			{
				Config: env.Config(target + `
ephemeral "nimbus_session" "test" {
  sandbox_id = nimbus_sandbox.target.id
  channels   = ["cdp"]
  ttl        = "5m"
}

resource "nimbus_sandbox" "consumer" {
  image                  = "docker.io/library/alpine:3"
  environment_wo         = { SESSION_ID = ephemeral.nimbus_session.test.id }
  environment_wo_version = 1
}
`),
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error {
						for name, rs := range s.RootModule().Resources {
							if rs.Type == "nimbus_session" {
								return fmt.Errorf("%s is in the state", name)
							}
						}
						return nil
					},
					func(s *terraform.State) error {
						return expectEphemeralSessionsClosed(c, targetID)
					},
					func(s *terraform.State) error {
						// The consumer got the (ephemeral) session id in its environment.
						id := s.RootModule().Resources["nimbus_sandbox.consumer"].Primary.ID
						return expectSandboxOnServer(c, id, api.SandboxRunning, 0, 1)
					},
				),
			},
		},
	})
}

// expectEphemeralSessionsClosed checks that sessions on the sandbox were
// opened and that every one of them is closed with Terraform's reason.
func expectEphemeralSessionsClosed(c *client.Client, sandboxID string) error {
	seen := 0
	for s, err := range c.Sessions.All(context.Background(), client.ListSessionsOptions{}) {
		if err != nil {
			return err
		}
		if s.Spec.Target.Sandbox == nil || s.Spec.Target.Sandbox.ID != sandboxID {
			continue
		}
		seen++
		if s.Status.LifecycleState != api.SessionClosed || s.Status.CloseReason != sessionCloseReason {
			return fmt.Errorf("session %s is %s (reason %q) after the run; want closed with %q",
				s.Metadata.ID, s.Status.LifecycleState, s.Status.CloseReason, sessionCloseReason)
		}
	}
	if seen == 0 {
		return fmt.Errorf("no session was opened on sandbox %s", sandboxID)
	}
	return nil
}

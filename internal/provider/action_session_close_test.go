package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// openServiceSession opens, through the client, a session on service svc
// with the given channels and requested TTL (0: the server's default).
func openServiceSession(t *testing.T, c *client.Client, svc string, ttlMs int64, channels ...string) *api.Session {
	t.Helper()
	s, err := c.Sessions.Open(t.Context(), api.OpenSessionRequest{
		Target: api.SessionTarget{Service: &api.ServiceRef{Name: svc}}, Channels: channels, RequestedTTLMs: ttlMs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSessionCloseAction_protocol invokes nimbus_session_close through the
// plugin protocol: the session is closed with the given reason; closing it
// again warns and changes nothing.
func TestSessionCloseAction_protocol(t *testing.T) {
	env, c := localTestServer(t)
	ctx := t.Context()
	svc := testAccName("target")
	testfixtures.CreateRunningService(t, c, fixtureService(svc))
	s := openServiceSession(t, c, svc, 0, "stdio")
	p := newProtoProvider(t, env)
	cfg := map[string]tftypes.Value{"id": str(s.Metadata.ID), "reason": str("maintenance window")}
	progress, diags := p.invoke("nimbus_session_close", cfg)
	failOnDiags(t, "close", diags)
	got, err := c.Sessions.Get(ctx, s.Metadata.ID)
	if err != nil || got.Status.LifecycleState != api.SessionClosed || got.Status.CloseReason != "maintenance window" {
		t.Fatalf("after close: %+v %v", got, err)
	}
	if len(progress) != 2 {
		t.Errorf("progress %q", progress)
	}
	_, diags = p.invoke("nimbus_session_close", map[string]tftypes.Value{"id": str(s.Metadata.ID), "reason": str("again")})
	failOnDiags(t, "second close", diags)
	if w := warningsNaming(diags, "already closed", "maintenance window"); len(w) != 1 {
		t.Errorf("second close: %+v", diags)
	}
	if got, _ := c.Sessions.Get(ctx, s.Metadata.ID); got.Status.CloseReason != "maintenance window" {
		t.Errorf("the second close changed the reason to %q", got.Status.CloseReason)
	}
	_, diags = p.invoke("nimbus_session_close", map[string]tftypes.Value{"id": str("ses-doesnotexist")})
	if e := errorsMatching(diags, "Could not close session ses-doesnotexist"); len(e) != 1 {
		t.Errorf("missing session: %+v", diags)
	}
}

// TestAccSessionCloseAction_trigger closes a session from action_trigger
// (Terraform 1.14+) with a reason.
func TestAccSessionCloseAction_trigger(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	svc := testAccName("target")
	testfixtures.CreateRunningService(t, c, fixtureService(svc))
	s := openServiceSession(t, c, svc, 0, "stdio")
	cfg := func(input string) string {
		return env.Config(`
action "nimbus_session_close" "debug" {
  config {
    id     = "` + s.Metadata.ID + `"
    reason = "incident closed"
  }
}
` + actionTriggerConfig("incident", input, "after_update", "action.nimbus_session_close.debug"))
	}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipUnlessActions,
		Steps: []resource.TestStep{
			{Config: cfg("open")},
			{Config: cfg("resolved"), Check: func(*terraform.State) error {
				got, err := c.Sessions.Get(t.Context(), s.Metadata.ID)
				if err != nil {
					return err
				}
				if got.Status.LifecycleState != api.SessionClosed || got.Status.CloseReason != "incident closed" {
					return fmt.Errorf("session is %s (%q)", got.Status.LifecycleState, got.Status.CloseReason)
				}
				return nil
			}},
		},
	})
}

package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
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
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowWriteOnly,
		CheckDestroy:           checkSandboxesGone(t, c),
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
						return expectEphemeralSessionsClosed(t, c, ephemeralTarget{sandboxID: targetID})
					},
					func(s *terraform.State) error {
						// The consumer got the (ephemeral) session id in its environment.
						id := s.RootModule().Resources["nimbus_sandbox.consumer"].Primary.ID
						return expectSandboxOnServer(t, c, id, api.SandboxRunning, 0, 1)
					},
				),
			},
		},
	})
}

// expectEphemeralSessionsClosed checks that sessions on the target (a
// sandbox id or a service name) were opened and that every one of them is
// closed with Terraform's reason.
func expectEphemeralSessionsClosed(t *testing.T, c *client.Client, target ephemeralTarget) error {
	seen := 0
	for s, err := range c.Sessions.All(t.Context(), client.ListSessionsOptions{}) {
		if err != nil {
			return err
		}
		if !target.is(s) {
			continue
		}
		seen++
		if s.Status.LifecycleState != api.SessionClosed || s.Status.CloseReason != sessionCloseReason {
			return fmt.Errorf("session %s is %s (reason %q) after the run; want closed with %q",
				s.Metadata.ID, s.Status.LifecycleState, s.Status.CloseReason, sessionCloseReason)
		}
	}
	if seen == 0 {
		return fmt.Errorf("no session was opened on %s", target)
	}
	return nil
}

// ephemeralTarget is the sandbox (by id) or the service (by name) the
// ephemeral sessions of a test were opened on.
type ephemeralTarget struct{ sandboxID, service string }

func (e ephemeralTarget) is(s api.Session) bool {
	if e.sandboxID != "" {
		return s.Spec.Target.Sandbox != nil && s.Spec.Target.Sandbox.ID == e.sandboxID
	}
	return s.Spec.Target.Service != nil && s.Spec.Target.Service.Name == e.service
}

func (e ephemeralTarget) String() string {
	if e.sandboxID != "" {
		return "sandbox " + e.sandboxID
	}
	return "service " + e.service
}

// TestAccSessionEphemeral_targetCreatedInSameRun: one apply of a new service
// and an ephemeral session on it. The session names the service by its id
// (unknown until the service exists), so the CLI does not open it during
// plan (with `service_name = nimbus_service.web.name`, known at plan time,
// the plan fails with "target service not found"); it is opened during
// apply once the service runs, handed to a write-only attribute, and closed
// at the end of the run. Needs ephemeral resources (skipped on Terraform
// 1.8; runs on OpenTofu and Terraform 1.11+).
func TestAccSessionEphemeral_targetCreatedInSameRun(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	web := testAccName("web")
	cfg := env.Config(fmt.Sprintf(`
resource "nimbus_service" "web" {
  name     = %q
  built_in = { provider = "browser" }
}

ephemeral "nimbus_session" "test" {
  service_id = nimbus_service.web.id
  channels   = ["page"]
  ttl        = "5m"
}

resource "nimbus_sandbox" "consumer" {
  image                  = "docker.io/library/alpine:3"
  environment_wo         = { SESSION_ID = ephemeral.nimbus_session.test.id }
  environment_wo_version = 1
}
`, web))
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowWriteOnly,
		CheckDestroy:           checkSandboxesGone(t, c),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error {
						return expectEphemeralSessionsClosed(t, c, ephemeralTarget{service: web})
					},
					func(s *terraform.State) error {
						id := s.RootModule().Resources["nimbus_sandbox.consumer"].Primary.ID
						return expectSandboxOnServer(t, c, id, api.SandboxRunning, 0, 1)
					},
				),
			},
			{
				// Once everything exists, a plan opens the session again
				// (the id is known) and changes nothing.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccSessionEphemeral_serviceIDValidation: a malformed service_id and a
// tenant_id that contradicts it are plan-time errors; exactly one target; a
// tenant the server does not have is reported as such.
func TestAccSessionEphemeral_serviceIDValidation(t *testing.T) {
	env := newTestServer(t)
	session := func(body string) string {
		return env.Config(`
ephemeral "nimbus_session" "test" {
  channels = ["page"]
` + body + `
}
`)
	}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowWriteOnly,
		Steps: []resource.TestStep{
			{Config: session(`  service_id = "web"`), ExpectError: regexp.MustCompile(`(?s)Invalid\s+service\s+id.*TENANT/NAME`)},
			{Config: session(`  service_id = "acc/web"
  service_name = "web"`), ExpectError: regexp.MustCompile(`(?s)Invalid\s+Attribute\s+Combination`)},
			{Config: session(`  service_id = "acc/web"
  tenant_id  = "other"`), ExpectError: regexp.MustCompile(`(?s)Conflicting\s+tenants`)},
			// A tenant the server does not have is named as such (not "target
			// service not found").
			{Config: session(`  service_id = "ghost/web"`), ExpectError: tenantMissing("ghost")},
			{Config: session(`  service_name = "web"
  tenant_id    = "ghost"`), ExpectError: tenantMissing("ghost")},
			// A service that does not exist: the hint for one created in the
			// same run.
			{Config: session(`  service_name = "nowhere"`), ExpectError: regexp.MustCompile(
				`(?s)the\s+service\s+does\s+not\s+exist.*service_id\s+=\s+nimbus_service\.<name>\.id`)},
		},
	})
}

// TestSessionEphemeral_openUnknownTarget: asked to open a session whose
// target is not known yet (a service created in the same run), Open opens
// nothing and returns unknown values, or defers when the CLI allows it.
func TestSessionEphemeral_openUnknownTarget(t *testing.T) {
	ctx := t.Context()
	// No client: reaching the API would add a "not configured" error.
	e := &SessionEphemeralResource{data: nil}
	var sr ephemeral.SchemaResponse
	e.Schema(ctx, ephemeral.SchemaRequest{}, &sr)
	typ := sr.Schema.Type().TerraformType(ctx).(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	vals["service_id"] = tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	vals["channels"] = tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, []tftypes.Value{tftypes.NewValue(tftypes.String, "page")})
	cfg := tfsdk.Config{Schema: sr.Schema, Raw: tftypes.NewValue(typ, vals)}

	for _, deferral := range []bool{false, true} {
		resp := ephemeral.OpenResponse{Result: tfsdk.EphemeralResultData{Schema: sr.Schema, Raw: cfg.Raw.Copy()}}
		e.Open(ctx, ephemeral.OpenRequest{Config: cfg, ClientCapabilities: ephemeral.OpenClientCapabilities{DeferralAllowed: deferral}}, &resp)
		if resp.Diagnostics.HasError() {
			t.Fatalf("deferral=%v: %v", deferral, resp.Diagnostics)
		}
		if deferral {
			if resp.Deferred == nil || resp.Deferred.Reason != ephemeral.DeferredReasonEphemeralResourceConfigUnknown {
				t.Fatalf("not deferred: %+v", resp.Deferred)
			}
			continue
		}
		var m sessionFields
		if d := resp.Result.Get(ctx, &m); d.HasError() {
			t.Fatal(d)
		}
		if !m.ID.IsUnknown() || !m.ExpiresAt.IsUnknown() || !m.ServiceID.IsUnknown() {
			t.Fatalf("want unknown results, got id %s expires_at %s", m.ID, m.ExpiresAt)
		}
	}
}

// Tests of what terraform-plugin-testing has no step for (`terraform apply
// -invoke`, `terraform query -generate-config-out`), run through the shared
// CLI harness internal/testcli.

package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testcli"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// newModernCLI is a testcli working directory with the provider under test,
// skipped unless the CLI is Terraform 1.14+ (list resources, query, actions).
func newModernCLI(t *testing.T) *testcli.CLI {
	t.Helper()
	cli := testcli.New(t, testcli.Options{Providers: map[string]testcli.ProviderFactory{
		"hashicorp/nimbus": providerserver.NewProtocol6WithError(New("test")()),
	}})
	info := cli.Info()
	if info.OpenTofu() || info.Version.LessThan(version.Must(version.NewVersion("1.14.0"))) {
		t.Skipf("%s %s has no list resources or actions", info.Product, info.Version)
	}
	return cli
}

// TestAccServiceRestartAction_invoke runs `terraform apply -invoke` of a
// restart: the service restarts (Ready condition moves, generation stays),
// nothing else changes, and the plan afterwards is empty.
func TestAccServiceRestartAction_invoke(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	name := testAccName("web")
	cli := newModernCLI(t)
	cli.WriteFile("main.tf", env.Config(`
resource "nimbus_service" "web" {
  name     = "`+name+`"
  built_in = { provider = "loadBalancer" }
}

action "nimbus_service_restart" "web" {
  config {
    name                = nimbus_service.web.name
    if_match_generation = nimbus_service.web.generation
  }
}
`))
	cli.MustRun("init", "-no-color")
	cli.MustRun("apply", "-auto-approve", "-no-color")
	before := getService(t, c, name)
	out := cli.MustRun("apply", "-auto-approve", "-no-color", "-invoke=action.nimbus_service_restart.web")
	after := getService(t, c, name)
	if !readyAt(t, after).After(readyAt(t, before)) || after.Metadata.Generation != before.Metadata.Generation {
		t.Fatalf("-invoke did not restart the service (Ready %s -> %s, generation %d -> %d):\n%s",
			readyAt(t, before), readyAt(t, after), before.Metadata.Generation, after.Metadata.Generation, out)
	}
	if !strings.Contains(out, "Restarting service") {
		t.Errorf("the apply output shows no progress:\n%s", out)
	}
	if _, _, err := cli.Run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Errorf("plan after -invoke is not empty: %v", err)
	}
}

// TestAccList_generateConfig runs `terraform query -generate-config-out`,
// applies the generated configuration (every listed object is imported)
// and checks that the plan afterwards is empty: the objects listed here have
// no redacted inputs. A sandbox-backed service with argv is listed by the
// query too and carries the warning naming its redacted inputs.
func TestAccList_generateConfig(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	team := testAccName("team")
	lb := testAccName("lb")
	testfixtures.CreateRunningService(t, c, fixtureService(lb))
	if _, err := c.Services.Update(t.Context(), lb, api.UpdateServiceRequest{
		Labels: &map[string]string{"team": team}, IfMatchGeneration: ptr(int64(1))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sessions.Open(t.Context(), api.OpenSessionRequest{
		Target: api.SessionTarget{Service: &api.ServiceRef{Name: lb}}, Channels: []string{"stdio"}}); err != nil {
		t.Fatal(err)
	}
	_, sandboxed, _ := createTestServices(t, c, "redacted-"+team)

	cli := newModernCLI(t)
	cli.WriteFile("main.tf", env.ProviderConfig())
	cli.WriteFile("find.tfquery.hcl", `
list "nimbus_service" "team" {
  provider = nimbus
  config {
    label_key   = "team"
    label_value = "`+team+`"
  }
}

list "nimbus_session" "open" {
  provider = nimbus
}
`)
	cli.MustRun("init", "-no-color")
	out := cli.MustRun("query", "-no-color", "-generate-config-out=generated.tf")
	gen := cli.ReadFile("generated.tf")
	for _, want := range []string{`resource "nimbus_service"`, `name = "` + lb + `"`, `resource "nimbus_session"`,
		`service_name = "` + lb + `"`, "import {", "identity = {"} {
		if !strings.Contains(strings.Join(strings.Fields(gen), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("generated.tf lacks %q:\n%s\nquery output:\n%s", want, gen, out)
		}
	}
	cli.MustRun("apply", "-auto-approve", "-no-color")
	if _, _, err := cli.Run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Errorf("plan after applying the generated configuration is not empty: %v", err)
	}

	// The redacted inputs are named.
	cli.WriteFile("find.tfquery.hcl", `
list "nimbus_service" "redacted" {
  provider = nimbus
  include_resource = true
  config {
    label_key   = "team"
    label_value = "redacted-`+team+`"
  }
}
`)
	out = cli.MustRun("query", "-no-color")
	if !strings.Contains(out, sandboxed) || !strings.Contains(out, "sandbox.argv") {
		t.Errorf("query output has no warning naming %s's redacted argv:\n%s", sandboxed, out)
	}
}

func ptr[T any](v T) *T { return &v }

// actionTriggerConfig is a terraform_data resource called name with the
// given input that runs action (an address such as
// action.nimbus_service_stop.web) on event (after_update, after_create).
func actionTriggerConfig(name, input, event, action string) string {
	return `
resource "terraform_data" "` + name + `" {
  input = "` + input + `"
  lifecycle {
    action_trigger {
      events  = [` + event + `]
      actions = [` + action + `]
    }
  }
}
`
}

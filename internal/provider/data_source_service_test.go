package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// TestAccServiceDataSources: nimbus_service by name and nimbus_services with
// label and lifecycle-state filters across several pages.
func TestAccServiceDataSources(t *testing.T) {
	env := newTestServer(t)
	requireLocalServer(t, env) // exact result sets need a server of our own
	c := env.Client(t)
	ctx := t.Context()
	// Pages of one item, so every page must be followed.
	smallPages(t, 1)

	mk := func(name, team string, start bool) {
		req := testfixtures.BuiltInService(name, api.ProviderBrowser, map[string]string{"team": team})
		if start {
			testfixtures.CreateRunningService(t, c, req)
		} else if _, err := c.Services.Create(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	mk("alpha", "red", true)
	mk("bravo", "red", false)
	mk("charlie", "red", true)
	mk("delta", "blue", true)

	cfg := env.Config(`
data "nimbus_service" "one" {
  name = "charlie"
}
data "nimbus_services" "red" {
  label_key   = "team"
  label_value = "red"
}
data "nimbus_services" "red_running" {
  label_key       = "team"
  label_value     = "red"
  lifecycle_state = "running"
}
data "nimbus_services" "all" {}
`)
	names := func(ns ...string) knownvalue.Check {
		cs := make([]knownvalue.Check, len(ns))
		for i, n := range ns {
			cs[i] = knownvalue.StringExact(n)
		}
		return knownvalue.SetExact(cs) // order is the server's
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("data.nimbus_service.one", "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
				stateIs("data.nimbus_service.one", "backend_kind", knownvalue.StringExact(api.BackendKindBuiltIn)),
				stateIs("data.nimbus_service.one", "built_in_provider", knownvalue.StringExact(api.ProviderBrowser)),
				stateIs("data.nimbus_service.one", "id", knownvalue.StringExact(fmt.Sprintf("%s/charlie", env.Tenant))),
				stateIs("data.nimbus_services.red", "names", names("alpha", "bravo", "charlie")),
				stateIs("data.nimbus_services.red_running", "names", names("alpha", "charlie")),
				stateIs("data.nimbus_services.all", "services", knownvalue.ListSizeExact(4)),
			},
		}},
	})
}

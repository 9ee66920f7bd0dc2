package provider

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// nimbus_sandboxes follows every page (page size 2 here) and applies the
// label and lifecycle-state filters.
func TestAccSandboxesDataSource_filtersAcrossPages(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	requireLocalServer(t, env) // counts every sandbox of the tenant
	smallPages(t, 2)
	var blue, blueRunning, green []string
	for i := 0; i < 5; i++ {
		sb := testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(map[string]string{"batch": "blue"}))
		blue = append(blue, sb.Metadata.ID)
		if i != 0 {
			blueRunning = append(blueRunning, sb.Metadata.ID)
		}
	}
	for i := 0; i < 2; i++ {
		green = append(green, testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(map[string]string{"batch": "green"})).Metadata.ID)
	}
	// One blue sandbox is stopped.
	if _, err := c.Sandboxes.Stop(t.Context(), blue[0], client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	all := append(append([]string{}, blue...), green...)
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: env.Config(`
data "nimbus_sandboxes" "all" {}

data "nimbus_sandboxes" "blue" {
  label_key   = "batch"
  label_value = "blue"
}

data "nimbus_sandboxes" "blue_running" {
  label_key       = "batch"
  label_value     = "blue"
  lifecycle_state = "running"
}

data "nimbus_sandboxes" "labelled" {
  label_key = "batch"
}

data "nimbus_sandboxes" "stopped" {
  lifecycle_state = "stopped"
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("data.nimbus_sandboxes.all", "ids", setOfList(all)),
					stateIs("data.nimbus_sandboxes.blue", "ids", setOfList(blue)),
					stateIs("data.nimbus_sandboxes.blue_running", "ids", setOfList(blueRunning)),
					stateIs("data.nimbus_sandboxes.labelled", "ids", setOfList(all)),
					stateIs("data.nimbus_sandboxes.stopped", "ids", setOfList(blue[:1])),
					stateAt("data.nimbus_sandboxes.stopped", tfpath("sandboxes").AtSliceIndex(0), knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"id":              knownvalue.StringExact(blue[0]),
						"lifecycle_state": knownvalue.StringExact(api.SandboxStopped),
						"argv_count":      knownvalue.Int64Exact(2),
						"owner_kind":      knownvalue.StringExact(api.OwnerKindStandalone),
						"labels":          knownvalue.MapExact(map[string]knownvalue.Check{"batch": knownvalue.StringExact("blue")}),
					})),
				},
			},
		},
	})
}

// nimbus_sandbox reads one sandbox, including a service-owned one.
func TestAccSandboxDataSource_byID(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	sb := testfixtures.CreateRunningSandbox(t, c, fixtureSandbox(map[string]string{"team": "a"}))
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: env.Config(`
data "nimbus_sandbox" "test" {
  id = "` + sb.Metadata.ID + `"
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("data.nimbus_sandbox.test", "lifecycle_state", knownvalue.StringExact(api.SandboxRunning)),
					stateIs("data.nimbus_sandbox.test", "tenant_id", knownvalue.StringExact(env.Tenant)),
					stateIs("data.nimbus_sandbox.test", "display_name", knownvalue.StringExact("fixture")),
					stateIs("data.nimbus_sandbox.test", "argv_count", knownvalue.Int64Exact(2)),
					stateIs("data.nimbus_sandbox.test", "environment_count", knownvalue.Int64Exact(0)),
					stateIs("data.nimbus_sandbox.test", "generation", knownvalue.Int64Exact(1)),
					stateIs("data.nimbus_sandbox.test", "labels", knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("a")})),
				},
			},
			{
				Config:      env.Config(`data "nimbus_sandbox" "test" { id = "sbx-doesnotexist" }`),
				ExpectError: regexp.MustCompile(`(?s)Could not read sandbox sbx-doesnotexist.*resource\.not_found`),
			},
		},
	})
}

// setOfList matches a list attribute holding exactly ids, in any order.
func setOfList(ids []string) knownvalue.Check {
	return listAnyOrder{ids: ids}
}

type listAnyOrder struct{ ids []string }

func (l listAnyOrder) CheckValue(v any) error {
	got, ok := v.([]any)
	if !ok {
		return fmt.Errorf("expected a list, got %T", v)
	}
	var gs []string
	for _, g := range got {
		s, _ := g.(string)
		gs = append(gs, s)
	}
	want := append([]string{}, l.ids...)
	sort.Strings(gs)
	sort.Strings(want)
	if len(gs) != len(want) {
		return fmt.Errorf("got %d ids %v, want %d %v", len(gs), gs, len(want), want)
	}
	for i := range gs {
		if gs[i] != want[i] {
			return fmt.Errorf("got ids %v, want %v", gs, want)
		}
	}
	return nil
}

func (l listAnyOrder) String() string { return "list of " + strings.Join(l.ids, ", ") }

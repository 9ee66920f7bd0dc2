package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
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
		sb := createRunningSandbox(t, c, map[string]string{"batch": "blue"})
		blue = append(blue, sb.Metadata.ID)
		if i != 0 {
			blueRunning = append(blueRunning, sb.Metadata.ID)
		}
	}
	for i := 0; i < 2; i++ {
		green = append(green, createRunningSandbox(t, c, map[string]string{"batch": "green"}).Metadata.ID)
	}
	// One blue sandbox is stopped.
	if _, err := c.Sandboxes.Stop(context.Background(), blue[0], client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	all := append(append([]string{}, blue...), green...)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
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
					statecheck.ExpectKnownValue("data.nimbus_sandboxes.all", tfjsonpath.New("ids"), setOfList(all)),
					statecheck.ExpectKnownValue("data.nimbus_sandboxes.blue", tfjsonpath.New("ids"), setOfList(blue)),
					statecheck.ExpectKnownValue("data.nimbus_sandboxes.blue_running", tfjsonpath.New("ids"), setOfList(blueRunning)),
					statecheck.ExpectKnownValue("data.nimbus_sandboxes.labelled", tfjsonpath.New("ids"), setOfList(all)),
					statecheck.ExpectKnownValue("data.nimbus_sandboxes.stopped", tfjsonpath.New("ids"), setOfList(blue[:1])),
					statecheck.ExpectKnownValue("data.nimbus_sandboxes.stopped", tfjsonpath.New("sandboxes").AtSliceIndex(0), knownvalue.ObjectPartial(map[string]knownvalue.Check{
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
	sb := createRunningSandbox(t, c, map[string]string{"team": "a"})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: env.Config(`
data "nimbus_sandbox" "test" {
  id = "` + sb.Metadata.ID + `"
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.nimbus_sandbox.test", tfjsonpath.New("lifecycle_state"), knownvalue.StringExact(api.SandboxRunning)),
					statecheck.ExpectKnownValue("data.nimbus_sandbox.test", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.Tenant)),
					statecheck.ExpectKnownValue("data.nimbus_sandbox.test", tfjsonpath.New("display_name"), knownvalue.StringExact("fixture")),
					statecheck.ExpectKnownValue("data.nimbus_sandbox.test", tfjsonpath.New("argv_count"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("data.nimbus_sandbox.test", tfjsonpath.New("environment_count"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue("data.nimbus_sandbox.test", tfjsonpath.New("generation"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("data.nimbus_sandbox.test", tfjsonpath.New("labels"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("a")})),
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

package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
)

// nimbus_sessions follows every page (page size 2 here) and filters by state;
// nimbus_session reads one session in any state.
func TestAccSessionsDataSource_filtersAcrossPages(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	smallPages(t, 2)
	requireLocalServer(t, env) // counts every session of the tenant
	web := testAccName("web")
	testfixtures.CreateRunningService(t, c, fixtureService(web))
	ctx := t.Context()
	var open, closed []string
	for i := 0; i < 5; i++ {
		s, err := c.Sessions.Open(ctx, api.OpenSessionRequest{
			Target:   api.SessionTarget{Service: &api.ServiceRef{Name: web}},
			Channels: []string{api.ChannelStdio},
		})
		if err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			if _, err := c.Sessions.Close(ctx, s.Metadata.ID, "fixture done"); err != nil {
				t.Fatal(err)
			}
			closed = append(closed, s.Metadata.ID)
		} else {
			open = append(open, s.Metadata.ID)
		}
	}
	all := append(append([]string{}, closed...), open...)
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: env.Config(`
data "nimbus_sessions" "all" {}

data "nimbus_sessions" "open" {
  state = "open"
}

data "nimbus_sessions" "closed" {
  state = "closed"
}

data "nimbus_session" "closed" {
  id = "` + closed[0] + `"
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("data.nimbus_sessions.all", "ids", setOfList(all)),
					stateIs("data.nimbus_sessions.open", "ids", setOfList(open)),
					stateIs("data.nimbus_sessions.closed", "ids", setOfList(closed)),
					stateAt("data.nimbus_sessions.open", tfpath("sessions").AtSliceIndex(0), knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"lifecycle_state": knownvalue.StringExact(api.SessionOpen),
						"service_name":    knownvalue.StringExact(web),
						"sandbox_id":      knownvalue.Null(),
						"ttl":             knownvalue.StringExact("15m"),
						"channels":        knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact(api.ChannelStdio)}),
					})),
					stateIs("data.nimbus_session.closed", "lifecycle_state", knownvalue.StringExact(api.SessionClosed)),
					stateIs("data.nimbus_session.closed", "close_reason", knownvalue.StringExact("fixture done")),
					stateAt("data.nimbus_session.closed", tfpath("target_snapshot").AtMapKey("name"), knownvalue.StringExact(web)),
				},
			},
		},
	})
}

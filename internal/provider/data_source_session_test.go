package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// nimbus_sessions follows every page (page size 2 here) and filters by state;
// nimbus_session reads one session in any state.
func TestAccSessionsDataSource_filtersAcrossPages(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	smallPages(t, 2)
	requireLocalServer(t, env) // counts every session of the tenant
	web := testAccName("web")
	createRunningService(t, c, web)
	ctx := context.Background()
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
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
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
					statecheck.ExpectKnownValue("data.nimbus_sessions.all", tfjsonpath.New("ids"), setOfList(all)),
					statecheck.ExpectKnownValue("data.nimbus_sessions.open", tfjsonpath.New("ids"), setOfList(open)),
					statecheck.ExpectKnownValue("data.nimbus_sessions.closed", tfjsonpath.New("ids"), setOfList(closed)),
					statecheck.ExpectKnownValue("data.nimbus_sessions.open", tfjsonpath.New("sessions").AtSliceIndex(0), knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"lifecycle_state": knownvalue.StringExact(api.SessionOpen),
						"service_name":    knownvalue.StringExact(web),
						"sandbox_id":      knownvalue.Null(),
						"ttl":             knownvalue.StringExact("15m"),
						"channels":        knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact(api.ChannelStdio)}),
					})),
					statecheck.ExpectKnownValue("data.nimbus_session.closed", tfjsonpath.New("lifecycle_state"), knownvalue.StringExact(api.SessionClosed)),
					statecheck.ExpectKnownValue("data.nimbus_session.closed", tfjsonpath.New("close_reason"), knownvalue.StringExact("fixture done")),
					statecheck.ExpectKnownValue("data.nimbus_session.closed", tfjsonpath.New("target_snapshot").AtMapKey("name"), knownvalue.StringExact(web)),
				},
			},
		},
	})
}

package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/action"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// NewServiceStopAction returns the nimbus_service_stop action.
func NewServiceStopAction() action.Action {
	return &serviceAction{
		actionBase: actionBase{suffix: "_service_stop"},

		verb: "stop", gerund: "Stopping", done: "stopped",
		waitTargets:    []string{api.WaitStopped},
		defaultTimeout: defaultServiceDeleteTimeout,
		description: "Stops a Nimbus service (a no-op for one that is stopped) and waits until it is stopped. Sessions " +
			"attached to it are closed by the server.\n\n" + actionFightsState + " For a `nimbus_service` with " +
			"`running = true`, the next plan shows a start; to keep a managed service stopped, set `running = false` instead.",
		call: func(c *client.Client) serviceCall { return c.Services.Stop },
	}
}

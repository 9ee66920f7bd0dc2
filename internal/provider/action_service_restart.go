package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/action"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// NewServiceRestartAction returns the nimbus_service_restart action.
func NewServiceRestartAction() action.Action {
	return &serviceAction{
		actionBase: actionBase{suffix: "_service_restart"},

		verb: "restart", gerund: "Restarting", done: "restarted",
		waitTargets:    []string{api.WaitReady, api.WaitHealthy},
		defaultTimeout: defaultServiceUpdateTimeout,
		description: "Restarts a Nimbus service: Nimbus stops it and starts it again on the same generation (a stopped " +
			"service is simply started), then the action waits until it is ready again. The restart shows in the " +
			"service's status: the `Ready` condition's `last_transition_time` moves while the generation stays the same.\n\n" +
			"Use it to restart a service when something it reads changes, for example from `action_trigger` on the " +
			"resource that holds its configuration, or for a one-off restart. For a service that Terraform manages, " +
			"`restart_triggers` on the `nimbus_service` does the same as part of the service's own plan; prefer the " +
			"action when the cause lives in another resource or module, when the service is managed elsewhere, or when " +
			"you want to restart on demand without changing any configuration.",
		call: func(c *client.Client) serviceCall { return c.Services.Restart },
	}
}

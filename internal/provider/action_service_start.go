package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/action"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// NewServiceStartAction returns the nimbus_service_start action.
func NewServiceStartAction() action.Action {
	return &serviceAction{
		actionBase: actionBase{suffix: "_service_start"},

		verb: "start", gerund: "Starting", done: "started",
		waitTargets:    []string{api.WaitReady, api.WaitHealthy},
		defaultTimeout: defaultServiceCreateTimeout,
		description: "Starts a Nimbus service (a no-op for one that is running or starting) and waits until it is ready.\n\n" +
			"For a service that Terraform manages, `running = true` on the `nimbus_service` already does this, and a " +
			"service found stopped shows as a planned start; use the action for services Terraform does not manage, " +
			"for example to bring up a shared service before a job runs.",
		call: func(c *client.Client) serviceCall { return c.Services.Start },
	}
}

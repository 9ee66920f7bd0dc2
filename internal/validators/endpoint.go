package validators

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// Endpoint validates a Nimbus endpoint (the provider's `endpoint`) with the
// client's own rules, so a malformed value such as "127.0.0.1:8080" fails at
// plan time, once, naming the expected form.
func Endpoint() validator.String { return endpointValidator{} }

type endpointValidator struct{}

func (endpointValidator) Description(context.Context) string {
	return "value must be the base URL of a Nimbus server: " + client.EndpointForm
}

func (v endpointValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (endpointValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.ConfigValue.ValueString() == "" {
		return
	}
	if err := client.ValidateEndpoint(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Malformed Nimbus endpoint",
			fmt.Sprintf("%s is not a usable Nimbus endpoint: %s.", req.Path, err))
	}
}

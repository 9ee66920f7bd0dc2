// Package validators holds the provider's shared attribute validators. They
// apply the same rules as the Nimbus API (internal/api) at plan time, so a
// bad value fails `terraform plan` instead of an apply half-way through.
package validators

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Name validates a Nimbus name or tenant id: a lowercase DNS label.
func Name() validator.String { return nameValidator{} }

type nameValidator struct{}

func (nameValidator) Description(context.Context) string { return "value " + api.NameRule }

func (v nameValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (nameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := api.ValidateName(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid name",
			fmt.Sprintf("%s: %s, for example \"web-1\".", req.Path, err))
	}
}

// HTTPURL validates an external endpoint URL with the API's rule
// (api.ExternalURLProblem): an absolute http or https URL without
// credentials in it, neither user:password@ nor a query parameter named like
// a secret. The credential belongs in the sibling auth.token attribute.
func HTTPURL() validator.String { return urlValidator{} }

type urlValidator struct{}

func (urlValidator) Description(context.Context) string {
	return "value must be an absolute http or https URL without credentials (no user:password@, no token or key query parameters)"
}

func (v urlValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (urlValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	token := req.Path.ParentPath().AtName("auth").AtName("token").String()
	if p := api.ExternalURLProblem(req.ConfigValue.ValueString(), token); p != "" {
		// The value is not repeated: it may hold a credential.
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid URL", fmt.Sprintf("%s %s.", req.Path, p))
	}
}

// Labels validates a labels map with the API's label rules.
func Labels() validator.Map { return labelsValidator{} }

type labelsValidator struct{}

func (labelsValidator) Description(context.Context) string {
	return fmt.Sprintf("at most %d labels; keys 1-63 characters of A-Z, a-z, 0-9, '.', '_', '/', '-'; values 0-63 characters of A-Z, a-z, 0-9, '.', '_', '-'", api.MaxLabels)
}

func (v labelsValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (labelsValidator) ValidateMap(ctx context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	m := map[string]string{}
	for k, v := range req.ConfigValue.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() || s.IsNull() {
			continue
		}
		m[k] = s.ValueString()
	}
	var vs api.Violations
	api.ValidateLabels(req.Path.String(), m, &vs)
	for _, v := range vs {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid labels", v.String())
	}
}

// EnvironmentNames validates the variable names of an environment map
// (api.ValidEnvName).
func EnvironmentNames() validator.Map { return envValidator{} }

type envValidator struct{}

func (envValidator) Description(context.Context) string {
	return "variable names " + api.EnvNameRule
}

func (v envValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (envValidator) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for k := range req.ConfigValue.Elements() {
		if !api.ValidEnvName(k) {
			resp.Diagnostics.AddAttributeError(req.Path, "Invalid environment variable name",
				fmt.Sprintf("%s: variable name %q %s.", req.Path, k, api.EnvNameRule))
		}
	}
}

// SandboxID validates a sandbox id (api.ValidSandboxID).
func SandboxID() validator.String {
	return ruleValidator{valid: api.ValidSandboxID, rule: api.SandboxIDRule, summary: "Invalid sandbox ID"}
}

// SessionID validates a session id (api.ValidSessionID).
func SessionID() validator.String {
	return ruleValidator{valid: api.ValidSessionID, rule: api.SessionIDRule, summary: "Invalid session ID"}
}

// ImageReference validates an OCI image reference (api.ValidImageReference).
func ImageReference() validator.String {
	return ruleValidator{valid: api.ValidImageReference, rule: api.ImageReferenceRule, summary: "Invalid image reference"}
}

// HealthPath validates a health-check path (api.ValidHealthPath).
func HealthPath() validator.String {
	return ruleValidator{valid: api.ValidHealthPath, rule: api.HealthPathRule, summary: "Invalid health path"}
}

// ruleValidator checks a string with one of the API's rules.
type ruleValidator struct {
	valid         func(string) bool
	rule, summary string
}

func (v ruleValidator) Description(context.Context) string { return "value " + v.rule }

func (v ruleValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v ruleValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if s := req.ConfigValue.ValueString(); !v.valid(s) {
		resp.Diagnostics.AddAttributeError(req.Path, v.summary, fmt.Sprintf("%s %s, got %q.", req.Path, v.rule, s))
	}
}

// Package diagnostics turns errors from the Nimbus client into Terraform
// diagnostics. It is the provider's ONE error-to-diagnostic mapper: every
// resource, data source and ephemeral resource reports API errors through
// FromError, which branches on the structured error code (never on message
// text) and tells the user what to do next.
package diagnostics

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// Summary prefixes used by FromError for special cases; tests match on them.
const (
	SummaryChangedOutside = "changed outside Terraform since the last refresh"
	SummaryConfig         = "Nimbus provider configuration"
	SummaryAuth           = "Nimbus authentication failed"
	SummaryPermission     = "Nimbus permission denied"
	SummaryWait           = "did not reach the desired state"
	SummaryTenantMissing  = "does not exist on the Nimbus server"
)

// PreconditionDetail is the advice attached to op.precondition_failed. The
// provider never retries such a request: overwriting a change someone else
// made is exactly what the generation check exists to prevent.
const PreconditionDetail = "The object was changed outside Terraform since the last refresh " +
	"(its generation no longer matches the one in the Terraform state), so the change was NOT applied " +
	"and the out-of-band change was kept. Run `terraform plan` (or `terraform apply -refresh-only`) to see " +
	"the change, then apply again."

// FromError returns an error diagnostic for err. summary says what the
// provider was doing ("Could not update service web"); the detail explains
// the error and the next step, followed by the underlying error.
func FromError(summary string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic(Title(summary, err), Detail(err))
}

// Append adds FromError(summary, err) to diags. A nil err adds nothing.
func Append(diags *diag.Diagnostics, summary string, err error) {
	if err == nil {
		return
	}
	diags.Append(FromError(summary, err))
}

// Title is the diagnostic summary for err: summary, qualified for the cases a
// user must recognise at a glance.
func Title(summary string, err error) string {
	var ce *client.ConfigError
	var we *client.WaitError
	switch {
	case errors.As(err, &ce):
		if ce.Invalid || ce.Setting == client.SettingCredentialsFile {
			return summary + ": invalid " + SummaryConfig
		}
		return summary + ": incomplete " + SummaryConfig
	case errors.As(err, &we):
		if we.Failed {
			return summary + ": the " + we.Kind + " failed"
		}
		return summary + ": the " + we.Kind + " " + SummaryWait + " in time"
	}
	if tenant, ok := client.NotFoundTenant(err); ok {
		return fmt.Sprintf("%s: tenant %q %s", summary, tenant, SummaryTenantMissing)
	}
	switch client.Code(err) {
	case api.CodePreconditionFailed:
		return summary + ": the object " + SummaryChangedOutside
	case api.CodeUnauthenticated:
		return summary + ": " + SummaryAuth
	case api.CodePermissionDenied:
		return summary + ": " + SummaryPermission
	}
	return summary
}

// Detail explains err and what to do about it.
func Detail(err error) string {
	if err == nil {
		return ""
	}
	var ce *client.ConfigError
	if errors.As(err, &ce) {
		return configAdvice(ce) + "\n\n" + ce.Error()
	}
	var we *client.WaitError
	if errors.As(err, &we) {
		return waitDetail(we)
	}
	if tenant, ok := client.NotFoundTenant(err); ok {
		return tenantDetail(tenant, err)
	}
	e, ok := client.AsError(err)
	if !ok {
		return err.Error()
	}
	var advice string
	switch e.Code {
	case api.CodePreconditionFailed:
		advice = PreconditionDetail
		if e.Details != nil && e.Details.CurrentGeneration > 0 {
			advice += fmt.Sprintf(" (The server's current generation is %d.)", e.Details.CurrentGeneration)
		}
	case api.CodePreconditionRequired:
		advice = "The server requires the object's generation for this change. This is a provider bug; please report it."
	case api.CodeUnauthenticated:
		advice = "The Nimbus server rejected the credential. Check the provider's `token`, `api_key`, " +
			"`workload_identity_token` or `credentials_file` settings, or the NIMBUS_TOKEN, NIMBUS_API_KEY, " +
			"NIMBUS_WORKLOAD_IDENTITY_TOKEN and NIMBUS_APPLICATION_CREDENTIALS environment variables: the credential " +
			"may be wrong, expired or meant for another server."
	case api.CodePermissionDenied:
		advice = "The credential is valid but not allowed in this tenant. Check `tenant_id` (on the resource, " +
			"in the provider block or NIMBUS_TENANT_ID) or use a credential granted that tenant."
		switch reason(e) {
		case api.ReasonReadOnly:
			advice = "The workload-identity token is valid, but the server's rule that matched it grants read-only access, " +
				"so nothing was changed. It can refresh and plan; a change needs a token that matches a \"readWrite\" rule " +
				"(in HCP Terraform, the apply-phase token: let the run's apply make the change)."
		case api.ReasonNoMatchingRule:
			advice = "The workload-identity token is valid, but no rule of the server's trusted issuer matches its subject " +
				"or claims. Ask the server's operator to add a rule in \"trustedIssuers\" for this workspace or workload."
		}
	case api.CodeNotFound:
		if !client.IsNotFound(err) {
			// A 404 that names no Nimbus object: not an answer about the
			// object at all.
			advice = "The server answered \"not found\" without naming a Nimbus object or tenant, so nothing is known " +
				"about the object and the Terraform state was left as it is. Check that `endpoint` (or NIMBUS_ENDPOINT) " +
				"is the base URL of a Nimbus server, such as " + "`http://127.0.0.1:8080`" + ", without a path of its own."
			break
		}
		advice = "The object does not exist (it may have been deleted outside Terraform). Check the name or ID " +
			"and tenant; for a managed object, `terraform plan` shows it for re-creation."
	case api.CodeAlreadyExists:
		advice = "An object with this name already exists. Choose another name, or bring the existing one " +
			"under Terraform with `terraform import` or an `import` block."
	case api.CodeConflict:
		advice = "The operation is not allowed in the object's current state (see the server's message below). " +
			"Bring the object into a state that allows it (for example start a stopped target, or wait for a " +
			"transition to finish), then apply again."
	case api.CodeInvalid:
		advice = "The server rejected the request as invalid. Fix the values it names in the configuration and apply again."
		if vs := e.FieldViolations(); len(vs) > 0 {
			parts := make([]string, len(vs))
			for i, v := range vs {
				parts[i] = "  - " + v.String()
			}
			advice += "\n" + strings.Join(parts, "\n")
		}
	case api.CodeTooLarge:
		advice = "The request is larger than the server accepts. Shorten the largest values (argv, environment, labels) and apply again."
	case api.CodeUnsupportedMedia, api.CodeMethodNotAllowed:
		advice = "The server does not accept the request the provider sent: the provider and server versions may not " +
			"match. Upgrade the provider or the server; if they match, this is a bug, please report it."
	case api.CodeRateLimited, api.CodeUnavailable:
		advice = "The server stayed busy or unavailable: the provider retried with backoff until the operation's " +
			"timeout. Try again later, or give the operation more time in the resource's `timeouts` block."
	case api.CodeInternal:
		advice = "The server failed with an internal error; this is a server bug. Retrying may help."
	}
	if advice == "" {
		return e.Error()
	}
	return advice + "\n\n" + e.Error()
}

// reason is the error's details.reason ("" if none).
func reason(e *client.Error) string {
	if e.Details == nil {
		return ""
	}
	return e.Details.Reason
}

// waitDetail explains a wait that ended without reaching its target. The
// server's status message appears exactly once.
func waitDetail(we *client.WaitError) string {
	var b strings.Builder
	if we.Failed {
		fmt.Fprintf(&b, "The %s %q reached the failed state while the provider waited for it to become %q.\n", we.Kind, we.Name, we.Until)
		if we.LastMessage != "" {
			fmt.Fprintf(&b, "Server message: %s\n", we.LastMessage)
		}
		b.WriteString("Fix the cause (for a sandbox backend: the image, argv or environment) and apply again.")
	} else {
		fmt.Fprintf(&b, "The %s %q did not become %q within %s.\n", we.Kind, we.Name, we.Until, we.Timeout.Round(time.Millisecond))
		if we.LastMessage != "" {
			fmt.Fprintf(&b, "Last server message: %s\n", we.LastMessage)
		}
		b.WriteString("Raise the matching value in the resource's `timeouts` block, or set `wait_until` to a weaker target, " +
			"if the service is just slow; otherwise check why it is not getting there.")
	}
	last := we.LastStatus
	if last == "" {
		last = "no status observed yet"
	}
	fmt.Fprintf(&b, "\n\nLast observed status: %s", last)
	return b.String()
}

// tenantDetail explains a tenant that does not exist on the server.
func tenantDetail(tenant string, err error) string {
	var b strings.Builder
	var te *client.TenantNotFoundError
	explained := errors.As(err, &te)
	server := "The Nimbus server"
	if explained && te.Endpoint != "" {
		server += " at " + te.Endpoint
	}
	fmt.Fprintf(&b, "%s has no tenant %q. Nothing was changed and the Terraform state was left as it is: "+
		"the objects of this tenant are not known to be gone, the server cannot be asked about them.\n\n", server, tenant)
	b.WriteString("Either the tenant id is wrong, or the provider talks to the wrong server (or to one started afresh, " +
		"without the tenant). Check `tenant_id` on the resource or data source, `tenant_id` in the provider block and " +
		"NIMBUS_TENANT_ID, and check `endpoint` / NIMBUS_ENDPOINT.")
	switch {
	case explained && te.ListErr == nil && len(te.Visible) > 0:
		fmt.Fprintf(&b, "\n\nTenants this credential can use on the server: %s.", strings.Join(te.Visible, ", "))
	case explained && te.ListErr == nil:
		b.WriteString("\n\nThis credential cannot use any tenant on this server.")
	default:
		b.WriteString("\n\nGET /v1/tenants on the server lists the tenants the credential can use.")
	}
	b.WriteString("\n\n" + err.Error())
	return b.String()
}

func configAdvice(ce *client.ConfigError) string {
	switch {
	case ce.Setting == client.SettingEndpoint && ce.Invalid:
		return "The Nimbus endpoint is malformed. It must be the server's base URL in the form " + client.EndpointForm +
			". Fix it where it is set (" + orUnknown(ce.Source) + "): `endpoint` in the provider block, the NIMBUS_ENDPOINT " +
			"environment variable, or \"endpoint\" in the credential file."
	case ce.Setting == client.SettingTenant && ce.Invalid:
		return "The tenant id is invalid. Fix it where it is set (" + orUnknown(ce.Source) + "): `tenant_id` in the provider block, " +
			"the NIMBUS_TENANT_ID environment variable, or \"tenantId\" in the credential file."
	}
	switch ce.Setting {
	case client.SettingEndpoint:
		return "The provider does not know which Nimbus server to talk to. Set `endpoint` in the provider block or the NIMBUS_ENDPOINT environment variable."
	case client.SettingCredential:
		return "The provider has no credential for the Nimbus server. Set `token`, `api_key` or `workload_identity_token` in the provider block, or NIMBUS_TOKEN, NIMBUS_API_KEY or NIMBUS_WORKLOAD_IDENTITY_TOKEN in the environment, or point `credentials_file` / NIMBUS_APPLICATION_CREDENTIALS at a credential file."
	case client.SettingTenant:
		return "No tenant is known for this object. Set `tenant_id` on the resource, in the provider block, or the NIMBUS_TENANT_ID environment variable."
	case client.SettingCredentialsFile:
		return "The credential file could not be used. Fix it or point `credentials_file` / NIMBUS_APPLICATION_CREDENTIALS at a valid one."
	}
	return "The Nimbus provider configuration is incomplete or invalid."
}

func orUnknown(s string) string {
	if s == "" {
		return "see below"
	}
	return s
}

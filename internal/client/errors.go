package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Error is a structured error returned by the Nimbus API. Branch on Code
// (or the Is* helpers), never on Message.
type Error struct {
	// Code is the API error code, e.g. api.CodeNotFound ("resource.not_found").
	// When the server answered without a JSON error body the code is derived
	// from the HTTP status (see CodeForStatus).
	Code string
	// HTTPStatus is the response's HTTP status code.
	HTTPStatus int
	// Message is the server's human-readable explanation.
	Message string
	// RequestID is the X-Request-Id of the failed request ("" if none).
	RequestID string
	// Details carries machine-readable context (field violations, current
	// generation, ...). Nil when the server sent none.
	Details *api.ErrorDetails
	// RetryAfter is the server's Retry-After (rate.limited, server.unavailable).
	RetryAfter time.Duration
	// Method and Path identify the request (path only; never the query, never
	// credentials).
	Method, Path string

	// structured: the body was the API's JSON error (not a proxy's page).
	structured bool
}

// Error implements error. It never contains credentials.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("nimbus: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	msg := e.Message
	if msg == "" {
		msg = "request failed"
	}
	b.WriteString(msg)
	if e.Details != nil && len(e.Details.FieldViolations) > 0 {
		parts := make([]string, len(e.Details.FieldViolations))
		for i, v := range e.Details.FieldViolations {
			parts[i] = v.String()
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, "; "))
	}
	fmt.Fprintf(&b, " [code %s, HTTP %d", e.Code, e.HTTPStatus)
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, ", request id %s", e.RequestID)
	}
	b.WriteString("]")
	return b.String()
}

// FieldViolations returns the request fields the server rejected, if any.
func (e *Error) FieldViolations() []api.FieldViolation {
	if e == nil || e.Details == nil {
		return nil
	}
	return e.Details.FieldViolations
}

// CodeForStatus maps an HTTP status to the API error code used when a
// response carries no structured error body (e.g. from a proxy).
func CodeForStatus(status int) string {
	switch status {
	case 400:
		return api.CodeInvalid
	case 401:
		return api.CodeUnauthenticated
	case 403:
		return api.CodePermissionDenied
	case 404:
		return api.CodeNotFound
	case 405:
		return api.CodeMethodNotAllowed
	case 409:
		return api.CodeConflict
	case 412:
		return api.CodePreconditionFailed
	case 413:
		return api.CodeTooLarge
	case 415:
		return api.CodeUnsupportedMedia
	case 428:
		return api.CodePreconditionRequired
	case 429:
		return api.CodeRateLimited
	case 502, 503, 504:
		return api.CodeUnavailable
	}
	if status >= 400 && status < 500 {
		return api.CodeInvalid
	}
	return api.CodeInternal
}

// Code returns the API error code of err ("" if err is not, and does not
// wrap, an *Error).
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindTenant is the details.kind of a resource.not_found (or
// auth.permission_denied) error about a tenant rather than an object.
const KindTenant = "tenant"

// IsNotFound reports whether err is resource.not_found for an object: the
// service, sandbox or session named in the error's details does not exist.
//
// It is false for a tenant that does not exist (see IsTenantNotFound) and
// for a 404 that does not say what is missing (no details: a route the
// server does not know, or a proxy or another HTTP server answering), so a
// caller that drops an object on IsNotFound never does so because it was
// pointed at the wrong server or tenant.
func IsNotFound(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == api.CodeNotFound && e.Details != nil && e.Details.Kind != "" && e.Details.Kind != KindTenant
}

// IsTenantNotFound reports whether err is resource.not_found for the
// tenant of the call: the server has no such tenant (wrong tenant id, wrong
// server, or a server started afresh). Nothing about the object itself is
// known then.
func IsTenantNotFound(err error) bool {
	_, ok := NotFoundTenant(err)
	return ok
}

// NotFoundTenant returns the tenant a resource.not_found error says does not
// exist, and whether err is such an error.
func NotFoundTenant(err error) (string, bool) {
	e, ok := AsError(err)
	if !ok || e.Code != api.CodeNotFound || e.Details == nil || e.Details.Kind != KindTenant {
		return "", false
	}
	return e.Details.Name, true
}

// TenantNotFoundError is a tenant resource.not_found error (Err) together
// with the tenants the credential may use, looked up afterwards with
// Client.Tenants (see ExplainTenantNotFound). Unwrap returns Err, so Code,
// IsTenantNotFound and AsError see through it.
type TenantNotFoundError struct {
	// Tenant is the tenant that does not exist.
	Tenant string
	// Endpoint is the server that was asked.
	Endpoint string
	// Visible lists the tenants the credential may use (sorted as the
	// server returns them); nil when they could not be listed.
	Visible []string
	// ListErr is why Visible could not be listed, if it could not.
	ListErr error
	// Err is the original error.
	Err error
}

func (e *TenantNotFoundError) Error() string { return e.Err.Error() }

// Unwrap returns the original error.
func (e *TenantNotFoundError) Unwrap() error { return e.Err }

// ExplainTenantNotFound returns err unchanged unless it says that the
// call's tenant does not exist; then it returns a *TenantNotFoundError that
// also lists the tenants the client's credential may use (one GET
// /v1/tenants). A failure of that lookup is recorded in ListErr, never
// returned in place of err.
func (c *Client) ExplainTenantNotFound(ctx context.Context, err error) error {
	tenant, ok := NotFoundTenant(err)
	if !ok {
		return err
	}
	var already *TenantNotFoundError
	if errors.As(err, &already) {
		return err
	}
	out := &TenantNotFoundError{Tenant: tenant, Endpoint: c.Settings().Endpoint, Err: err}
	list, lerr := c.Tenants(ctx)
	if lerr != nil {
		out.ListErr = lerr
		return out
	}
	out.Visible = make([]string, 0, len(list.Items))
	for _, t := range list.Items {
		out.Visible = append(out.Visible, t.ID)
	}
	return out
}

// IsConflict reports whether err is op.conflict.
func IsConflict(err error) bool { return Code(err) == api.CodeConflict }

// IsPreconditionFailed reports whether err is op.precondition_failed (a
// stale ifMatchGeneration: re-read and retry).
func IsPreconditionFailed(err error) bool { return Code(err) == api.CodePreconditionFailed }

// Settings names used by ConfigError.
const (
	SettingEndpoint        = "endpoint"
	SettingCredential      = "credential"
	SettingTenant          = "tenant"
	SettingCredentialsFile = "credentials_file"
)

// ConfigError reports client configuration that is missing or invalid. It
// is returned before any request is sent.
type ConfigError struct {
	// Setting is SettingEndpoint, SettingCredential, SettingTenant or
	// SettingCredentialsFile.
	Setting string
	// Message says what is wrong and names every way to fix it.
	Message string
	// Invalid is true when the setting was given but its value cannot be
	// used (a malformed endpoint, an invalid tenant id, an unreadable
	// credential file), false when it is missing.
	Invalid bool
	// Source says where an invalid value came from (`option "endpoint"`,
	// "environment variable NIMBUS_ENDPOINT", "credential file …"); "" when
	// the setting is missing.
	Source string
	// Err is an underlying cause (e.g. a JSON syntax error), if any.
	Err error
}

// SourceOption is ConfigError.Source (and Settings' sources) for a value set
// by the option (provider attribute) name, e.g. `option "endpoint"`.
func SourceOption(name string) string { return fmt.Sprintf("option %q", name) }

func (e *ConfigError) Error() string { return "nimbus: " + e.Message }

// Unwrap returns the underlying cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// IsConfigError reports whether err is (or wraps) a *ConfigError.
func IsConfigError(err error) bool {
	var e *ConfigError
	return errors.As(err, &e)
}

// WaitError is returned by a wait that ended without reaching its target:
// either the object reached a failed state (Failed) or the deadline passed.
type WaitError struct {
	// Kind is "service" or "sandbox"; Name the service name or sandbox id.
	Kind, Name string
	// Until is the wait target (ready, healthy, stopped, running).
	Until string
	// Timeout is the wait's effective timeout (0 for a failed-state error
	// found before any deadline).
	Timeout time.Duration
	// LastState and LastMessage are the lifecycle state and status message
	// last observed; LastStatus a one-line summary of the rest of the status
	// (without the message, so that it is reported once).
	LastState, LastMessage, LastStatus string
	// Last is the last observed object (*api.Service or *api.Sandbox), nil
	// if none was read.
	Last any
	// Failed is true when the object reached a failed state.
	Failed bool
	// Err is the cause: context.DeadlineExceeded for a timeout, nil for a
	// failed state.
	Err error
}

func (e *WaitError) Error() string {
	status := e.LastStatus
	if status == "" {
		status = "no status observed yet"
	}
	if e.Failed {
		msg := e.LastMessage
		if msg == "" {
			msg = "no reason given by the server"
		}
		return fmt.Sprintf("nimbus: %s %q failed while waiting for it to become %s: %s (last observed status: %s)",
			e.Kind, e.Name, e.Until, msg, status)
	}
	if e.LastMessage != "" {
		status += fmt.Sprintf(", message %q", e.LastMessage)
	}
	return fmt.Sprintf("nimbus: timed out after %s waiting for %s %q to become %s; last observed status: %s",
		e.Timeout.Round(time.Millisecond), e.Kind, e.Name, e.Until, status)
}

// Unwrap returns the cause (context.DeadlineExceeded for timeouts).
func (e *WaitError) Unwrap() error { return e.Err }

// IsWaitTimeout reports whether err is a *WaitError for a passed deadline.
func IsWaitTimeout(err error) bool {
	var e *WaitError
	return errors.As(err, &e) && !e.Failed && errors.Is(e.Err, context.DeadlineExceeded)
}

// IsWaitFailed reports whether err is a *WaitError for a failed state.
func IsWaitFailed(err error) bool {
	var e *WaitError
	return errors.As(err, &e) && e.Failed
}

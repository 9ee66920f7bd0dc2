package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Error is a refusal the API answers as-is: an api error code (api.Code*),
// a message for the caller and optional details. The domain's methods
// return it for every refusal; any other error they return is an internal
// failure (the HTTP layer answers server.internal and logs it).
type Error struct {
	Code    string
	Message string
	Details *api.ErrorDetails
	// RetryAfter, when > 0, tells the caller when to retry.
	RetryAfter time.Duration
}

// Error implements error: "code: message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// CodeOf returns the api error code of err: its Error's code, or
// api.CodeInternal for any other error ("" for nil).
func CodeOf(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return api.CodeInternal
	}
}

// Errorf is an Error with a formatted message and no details.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is request.invalid listing every violation.
func Invalid(v api.Violations) *Error {
	msgs := make([]string, len(v))
	for i, f := range v {
		msgs[i] = f.String()
	}
	return &Error{Code: api.CodeInvalid, Message: "invalid request: " + strings.Join(msgs, "; "),
		Details: &api.ErrorDetails{FieldViolations: v}}
}

// InvalidField is request.invalid of one field.
func InvalidField(field, format string, args ...any) *Error {
	var v api.Violations
	v.Add(field, format, args...)
	return Invalid(v)
}

// Internal is server.internal; the HTTP layer hides the message from the
// caller and logs it with the request id.
func Internal(err error) *Error {
	return &Error{Code: api.CodeInternal, Message: "internal server error: " + err.Error()}
}

func preconditionRequired(kind, name string) *Error {
	return &Error{Code: api.CodePreconditionRequired,
		Message: fmt.Sprintf("ifMatchGeneration is required to change %s %q: read it and send its metadata.generation", kind, name),
		Details: &api.ErrorDetails{Kind: kind, Name: name}}
}

func preconditionFailed(kind, name string, want, current int64) *Error {
	return &Error{Code: api.CodePreconditionFailed,
		Message: fmt.Sprintf("%s %q is at generation %d, not %d (ifMatchGeneration): it changed since you read it; read it again and retry", kind, name, current, want),
		Details: &api.ErrorDetails{Kind: kind, Name: name, CurrentGeneration: current}}
}

func notFound(kind, tenant, name string) *Error {
	return &Error{Code: api.CodeNotFound, Message: fmt.Sprintf("%s %q not found in tenant %q", kind, name, tenant),
		Details: &api.ErrorDetails{Kind: kind, Name: name}}
}

func conflict(kind, name, state, format string, args ...any) *Error {
	return &Error{Code: api.CodeConflict, Message: fmt.Sprintf(format, args...),
		Details: &api.ErrorDetails{Kind: kind, Name: name, LifecycleState: state}}
}

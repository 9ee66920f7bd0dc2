// Package api holds the Nimbus HTTP API's wire types, shared by the server
// (internal/server) and the Go client (internal/client), together with the
// request validation both sides rely on.
package api

import "fmt"

// Error codes of the Nimbus API. Every error response carries exactly one of
// these in error.code; clients must branch on the code, never on the message.
const (
	CodeInvalid              = "request.invalid"
	CodeTooLarge             = "request.too_large"
	CodeTimeout              = "request.timeout"
	CodeUnsupportedMedia     = "request.unsupported_media_type"
	CodeMethodNotAllowed     = "request.method_not_allowed"
	CodeIdempotencyMismatch  = "request.idempotency_mismatch"
	CodeUnauthenticated      = "auth.unauthenticated"
	CodePermissionDenied     = "auth.permission_denied"
	CodeNotFound             = "resource.not_found"
	CodeAlreadyExists        = "resource.already_exists"
	CodeConflict             = "op.conflict"
	CodePreconditionFailed   = "op.precondition_failed"
	CodePreconditionRequired = "op.precondition_required"
	CodeRateLimited          = "rate.limited"
	CodeUnavailable          = "server.unavailable"
	CodeInternal             = "server.internal"
)

// Reasons in error.details.reason: why a workload-identity token was
// refused (auth.unauthenticated; ReasonNoMatchingRule and ReasonReadOnly
// come with auth.permission_denied). Clients branch on them, never on the
// message: a ReasonTokenExpired is worth re-reading a rotated token file.
const (
	ReasonTokenMalformed       = "token_malformed"
	ReasonUnsupportedAlgorithm = "unsupported_algorithm"
	ReasonUnknownIssuer        = "unknown_issuer"
	ReasonIssuerUnavailable    = "issuer_unavailable"
	ReasonUnknownKey           = "unknown_key"
	ReasonBadSignature         = "bad_signature"
	ReasonTokenExpired         = "token_expired"
	ReasonTokenNotYetValid     = "token_not_yet_valid"
	ReasonWrongAudience        = "wrong_audience"
	ReasonNoMatchingRule       = "no_matching_rule"
	ReasonReadOnly             = "read_only"
)

// HTTPStatus returns the HTTP status code the API uses for an error code.
func HTTPStatus(code string) int {
	switch code {
	case CodeInvalid:
		return 400
	case CodeUnauthenticated:
		return 401
	case CodePermissionDenied:
		return 403
	case CodeNotFound:
		return 404
	case CodeMethodNotAllowed:
		return 405
	case CodeTimeout:
		return 408
	case CodeAlreadyExists, CodeConflict:
		return 409
	case CodePreconditionFailed:
		return 412
	case CodeTooLarge:
		return 413
	case CodeIdempotencyMismatch:
		return 422
	case CodeUnsupportedMedia:
		return 415
	case CodePreconditionRequired:
		return 428
	case CodeRateLimited:
		return 429
	case CodeUnavailable:
		return 503
	default:
		return 500
	}
}

// ErrorResponse is the body of every non-2xx response.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody describes one API error.
type ErrorBody struct {
	Code      string        `json:"code"`
	Message   string        `json:"message"`
	Details   *ErrorDetails `json:"details,omitempty"`
	RequestID string        `json:"requestId,omitempty"`
}

// ErrorDetails carries machine-readable context for an error.
type ErrorDetails struct {
	// FieldViolations names each request field at fault (request.invalid).
	FieldViolations []FieldViolation `json:"fieldViolations,omitempty"`
	// CurrentGeneration is the object's generation when an ifMatchGeneration
	// check failed (op.precondition_failed).
	CurrentGeneration int64 `json:"currentGeneration,omitempty"`
	// LifecycleState is the object's state when an operation conflicted with it
	// (op.conflict).
	LifecycleState string `json:"lifecycleState,omitempty"`
	// RetryAfterSeconds repeats the Retry-After header (rate.limited,
	// server.unavailable).
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`
	// Kind and Name/ID identify the object an error refers to.
	Kind string `json:"kind,omitempty"`
	Name string `json:"name,omitempty"`
	// Reason says why a credential was refused (auth.unauthenticated,
	// auth.permission_denied of workload-identity tokens): one of the
	// Reason* constants.
	Reason string `json:"reason,omitempty"`
}

// FieldViolation names a request field and what is wrong with it.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

func (v FieldViolation) String() string { return fmt.Sprintf("%s: %s", v.Field, v.Description) }

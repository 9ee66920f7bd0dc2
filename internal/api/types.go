package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// Base path and query/header names of the API.
const (
	BasePath        = "/v1"
	HeaderRequestID = "X-Request-Id"
	HeaderAPIKey    = "X-Nimbus-Api-Key"
	// HeaderIdempotencyKey makes services.create, sandboxes.create and
	// sessions.open idempotent: a repeat with the same key and body within
	// IdempotencyKeyTTL answers the original response and creates nothing.
	HeaderIdempotencyKey = "Idempotency-Key"
	// MaxIdempotencyKeyLen is the longest Idempotency-Key accepted (1–255
	// printable ASCII characters).
	MaxIdempotencyKeyLen = 255
	// IdempotencyKeyTTL is how long the server remembers a key.
	IdempotencyKeyTTL = 24 * time.Hour
	// Long-poll query parameters accepted by every single-object GET.
	QueryChangedSince = "changedSince"
	QueryWaitMs       = "waitMs"
	MaxWaitMs         = 60000
	// Pagination.
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
	// MaxBodyBytes is the request body limit (request.too_large above it).
	MaxBodyBytes = 1 << 20
	// Session TTL bounds, in milliseconds.
	MinSessionTTLMs     = 1000
	MaxSessionTTLMs     = 86400000
	DefaultSessionTTLMs = 900000
	// Label limits.
	MaxLabels = 64
)

// Service backend kinds.
const (
	BackendKindSandbox  = "sandbox"
	BackendKindBuiltIn  = "builtIn"
	BackendKindExternal = "external"
)

// Built-in providers.
const (
	ProviderLoadBalancer     = "loadBalancer"
	ProviderServiceDiscovery = "serviceDiscovery"
	ProviderBrowser          = "browser"
	ProviderModelGateway     = "modelGateway"
)

// BuiltInProviders lists every built-in provider.
var BuiltInProviders = []string{ProviderLoadBalancer, ProviderServiceDiscovery, ProviderBrowser, ProviderModelGateway}

// Sandbox runtime backends, owner kinds, root kinds, profiles.
const (
	RuntimeContainer = "container"
	RuntimeKrun      = "krun"

	OwnerKindService    = "service"
	OwnerKindStandalone = "standalone"

	RootKindOCIImage    = "oci_image"
	SourceKindReference = "reference"

	ProfileWorker  = "worker"
	ProfileDesktop = "desktop"
)

// External auth and health-check kinds.
const (
	AuthKindNone   = "none"
	AuthKindBearer = "bearer"
	HealthKindHTTP = "http"
)

// Service lifecycle states.
const (
	ServiceStopped  = "stopped"
	ServiceStarting = "starting"
	ServiceRunning  = "running"
	ServiceStopping = "stopping"
	ServiceFailed   = "failed"
)

// Sandbox lifecycle states.
const (
	SandboxPending  = "pending"
	SandboxStarting = "starting"
	SandboxRunning  = "running"
	SandboxStopping = "stopping"
	SandboxStopped  = "stopped"
	SandboxFailed   = "failed"
)

// Session lifecycle states and channels.
const (
	SessionOpen    = "open"
	SessionClosed  = "closed"
	SessionExpired = "expired"

	ChannelStdio = "stdio"
	ChannelCDP   = "cdp"
	ChannelPage  = "page"
	ChannelFiles = "files"
)

// Channels lists every session channel.
var Channels = []string{ChannelStdio, ChannelCDP, ChannelPage, ChannelFiles}

// Readiness and health values.
const (
	ReadinessReady    = "ready"
	ReadinessNotReady = "notReady"

	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthUnknown   = "unknown"
)

// Condition types and statuses.
const (
	ConditionReady       = "Ready"
	ConditionHealthy     = "Healthy"
	ConditionProgressing = "Progressing"

	ConditionTrue    = "True"
	ConditionFalse   = "False"
	ConditionUnknown = "Unknown"
)

// Wait targets (client-side waits; start/restart accept ready|healthy, stop
// accepts stopped).
const (
	WaitReady   = "ready"
	WaitHealthy = "healthy"
	WaitStopped = "stopped"
	WaitRunning = "running" // sandboxes
)

// ObjectMeta is the metadata of every object.
type ObjectMeta struct {
	// Name identifies a service; ID identifies a sandbox (sbx-…) or session (ses-…).
	Name            string            `json:"name,omitempty"`
	ID              string            `json:"id,omitempty"`
	TenantID        string            `json:"tenantId"`
	Generation      int64             `json:"generation"`
	ResourceVersion string            `json:"resourceVersion"`
	CreatedAt       time.Time         `json:"createdAt"`
	UpdatedAt       time.Time         `json:"updatedAt"`
	Labels          map[string]string `json:"labels,omitempty"`
}

// ListMeta is the metadata of a list response.
type ListMeta struct {
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// Condition is a Kubernetes-style status condition.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
	ObservedGeneration int64     `json:"observedGeneration"`
}

// Endpoint is a place where a running service or sandbox can be reached.
type Endpoint struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// ---------------------------------------------------------------- services

// Service is a named, supervised workload.
type Service struct {
	Metadata ObjectMeta    `json:"metadata"`
	Spec     ServiceSpec   `json:"spec"`
	Status   ServiceStatus `json:"status"`
}

// ServiceSpec is the desired state of a service.
type ServiceSpec struct {
	Backend Backend `json:"backend"`
}

// Backend tells Nimbus how to run or reach a service. Exactly one of the
// kind-specific fields is set, matching Kind.
type Backend struct {
	Kind string `json:"kind"`
	// kind=sandbox
	Sandbox *SandboxSpec `json:"sandbox,omitempty"`
	// kind=builtIn
	Provider string `json:"provider,omitempty"`
	// kind=external
	Endpoint *ExternalEndpoint `json:"endpoint,omitempty"`
	Auth     *ExternalAuth     `json:"auth,omitempty"`
	Health   *HealthCheck      `json:"health,omitempty"`
}

// ExternalEndpoint is where an external service lives.
type ExternalEndpoint struct {
	URL string `json:"url"`
}

// ExternalAuth is how Nimbus authenticates to an external service's health
// check. Kind "none" sends nothing; kind "bearer" sends Token as a bearer
// token (redacted in responses).
type ExternalAuth struct {
	Kind  string  `json:"kind"`
	Token *Secret `json:"token,omitempty"`
}

// HealthCheck is how Nimbus checks an external service: an HTTP GET of
// endpoint.url + Path; any 2xx is healthy.
type HealthCheck struct {
	Kind string `json:"kind"`
	Path string `json:"path,omitempty"`
}

// ServiceStatus is the observed state of a service.
type ServiceStatus struct {
	LifecycleState     string      `json:"lifecycleState"`
	Readiness          string      `json:"readiness"`
	Health             string      `json:"health"`
	ObservedGeneration int64       `json:"observedGeneration"`
	Conditions         []Condition `json:"conditions,omitempty"`
	Endpoints          []Endpoint  `json:"endpoints,omitempty"`
	// Message explains the current state, e.g. why the service failed.
	Message string `json:"message,omitempty"`
	// SandboxID is the sandbox a running sandbox-backed service owns.
	SandboxID string `json:"sandboxId,omitempty"`
}

// CreateServiceRequest is the body of POST /v1/tenants/{t}/services.
type CreateServiceRequest struct {
	Name    string            `json:"name"`
	Backend Backend           `json:"backend"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// UpdateServiceRequest is the body of PATCH /v1/tenants/{t}/services/{name}.
// Fields present replace the stored value whole; absent (nil) fields are kept.
// A present, empty Labels map clears the labels.
type UpdateServiceRequest struct {
	Backend           *Backend           `json:"backend,omitempty"`
	Labels            *map[string]string `json:"labels,omitempty"`
	IfMatchGeneration *int64             `json:"ifMatchGeneration,omitempty"`
}

// ServiceActionRequest is the optional body of start/stop/restart.
type ServiceActionRequest struct {
	IfMatchGeneration *int64 `json:"ifMatchGeneration,omitempty"`
}

// ServiceList is a page of services.
type ServiceList struct {
	Items    []Service `json:"items"`
	Metadata ListMeta  `json:"metadata"`
}

// --------------------------------------------------------------- sandboxes

// SandboxSpec describes an isolated execution environment. It is the
// service sandbox backend and the body of a standalone sandbox.
type SandboxSpec struct {
	Owner   Owner   `json:"owner"`
	Backend string  `json:"backend"`
	Root    Root    `json:"root"`
	Process Process `json:"process"`
}

// Owner says who owns a sandbox.
type Owner struct {
	Kind        string `json:"kind"`
	ServiceName string `json:"serviceName,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// Root is a sandbox's root filesystem.
type Root struct {
	Kind   string     `json:"kind"`
	Source RootSource `json:"source"`
}

// RootSource is where a root filesystem comes from.
type RootSource struct {
	Kind      string `json:"kind"`
	Reference string `json:"reference"`
}

// Process is what a sandbox runs. Both fields are launch inputs: responses
// always carry them redacted.
type Process struct {
	Argv        RedactableList `json:"argv"`
	Environment RedactableMap  `json:"environment"`
}

// Sandbox is an isolated execution environment.
type Sandbox struct {
	Metadata ObjectMeta        `json:"metadata"`
	Spec     SandboxObjectSpec `json:"spec"`
	Status   SandboxStatus     `json:"status"`
}

// SandboxObjectSpec is a sandbox's spec as returned by the API: the profile
// plus the sandbox spec.
type SandboxObjectSpec struct {
	Profile string `json:"profile"`
	SandboxSpec
}

// SandboxStatus is the observed state of a sandbox.
type SandboxStatus struct {
	LifecycleState string      `json:"lifecycleState"`
	Endpoints      []Endpoint  `json:"endpoints,omitempty"`
	Conditions     []Condition `json:"conditions,omitempty"`
	Message        string      `json:"message,omitempty"`
	ExitCode       *int        `json:"exitCode,omitempty"`
	StartedAt      *time.Time  `json:"startedAt,omitempty"`
	StoppedAt      *time.Time  `json:"stoppedAt,omitempty"`
}

// CreateSandboxRequest is the body of POST /v1/tenants/{t}/sandboxes.
type CreateSandboxRequest struct {
	Profile string            `json:"profile"`
	Spec    SandboxSpec       `json:"spec"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// UpdateSandboxRequest is the body of PATCH /v1/tenants/{t}/sandboxes/{id}:
// only labels can change (a generation-checked label update).
type UpdateSandboxRequest struct {
	Labels            *map[string]string `json:"labels,omitempty"`
	IfMatchGeneration *int64             `json:"ifMatchGeneration,omitempty"`
}

// SandboxActionRequest is the optional body of POST …/sandboxes/{id}/stop:
// with IfMatchGeneration set, a stale generation fails with
// op.precondition_failed and stops nothing.
type SandboxActionRequest struct {
	IfMatchGeneration *int64 `json:"ifMatchGeneration,omitempty"`
}

// SandboxList is a page of sandboxes.
type SandboxList struct {
	Items    []Sandbox `json:"items"`
	Metadata ListMeta  `json:"metadata"`
}

// ---------------------------------------------------------------- sessions

// Session is a scoped, expiring connection to a running service or sandbox.
type Session struct {
	Metadata ObjectMeta    `json:"metadata"`
	Spec     SessionSpec   `json:"spec"`
	Status   SessionStatus `json:"status"`
}

// SessionTarget names what a session attaches to: exactly one of Service or Sandbox.
type SessionTarget struct {
	Service *ServiceRef `json:"service,omitempty"`
	Sandbox *SandboxRef `json:"sandbox,omitempty"`
}

// ServiceRef names a service.
type ServiceRef struct {
	Name string `json:"name"`
}

// SandboxRef names a sandbox.
type SandboxRef struct {
	ID string `json:"id"`
}

// SessionSpec is a session's spec.
type SessionSpec struct {
	Target         SessionTarget  `json:"target"`
	Channels       []string       `json:"channels"`
	RequestedTTLMs int64          `json:"requestedTtlMs"`
	ExpiresAt      time.Time      `json:"expiresAt"`
	TargetSnapshot TargetSnapshot `json:"targetSnapshot"`
}

// TargetSnapshot pins what a session attached to at open time.
type TargetSnapshot struct {
	Kind       string `json:"kind"` // "service" or "sandbox"
	Name       string `json:"name,omitempty"`
	ID         string `json:"id,omitempty"`
	Generation int64  `json:"generation"`
	// BackendKind is the service's backend kind (sandbox|builtIn|external), or
	// "sandbox" for a sandbox target.
	BackendKind string `json:"backendKind"`
	// Runtime is container|krun where the target runs in a sandbox.
	Runtime string `json:"runtime,omitempty"`
	// Provider is the built-in provider of a builtIn service.
	Provider string `json:"provider,omitempty"`
}

// SessionStatus is a session's observed state.
type SessionStatus struct {
	LifecycleState string     `json:"lifecycleState"`
	ClosedAt       *time.Time `json:"closedAt,omitempty"`
	CloseReason    string     `json:"closeReason,omitempty"`
}

// OpenSessionRequest is the body of POST /v1/tenants/{t}/sessions.
// RequestedTTLMs 0 means the default (900000).
type OpenSessionRequest struct {
	Target         SessionTarget     `json:"target"`
	Channels       []string          `json:"channels"`
	RequestedTTLMs int64             `json:"requestedTtlMs,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
}

// CloseSessionRequest is the body of POST …/sessions/{id}/close.
type CloseSessionRequest struct {
	Reason string `json:"reason,omitempty"`
}

// SessionList is a page of sessions.
type SessionList struct {
	Items    []Session `json:"items"`
	Metadata ListMeta  `json:"metadata"`
}

// ----------------------------------------------------------------- tenants

// Tenant is a tenant the caller's credential may use.
type Tenant struct {
	ID string `json:"id"`
}

// TenantList is the body of GET /v1/tenants.
type TenantList struct {
	Items []Tenant `json:"items"`
}

// ----------------------------------------------------------------- secrets

// redactedJSON is the wire form of a redacted value.
type redactedJSON struct {
	Redacted   bool `json:"redacted"`
	ValueCount int  `json:"valueCount"`
}

var errRedactedShape = errors.New(`expected a value or {"redacted":true,"valueCount":n}`)

// RedactableList is a list of strings that responses redact. In requests it
// is a JSON array; in responses {"redacted":true,"valueCount":n}.
type RedactableList struct {
	Values   []string
	Redacted bool
	Count    int
}

// Len is the number of values, whether redacted or not.
func (l RedactableList) Len() int {
	if l.Redacted {
		return l.Count
	}
	return len(l.Values)
}

// Redact returns the redacted form of l.
func (l RedactableList) Redact() RedactableList {
	return RedactableList{Redacted: true, Count: l.Len()}
}

// MarshalJSON implements json.Marshaler.
func (l RedactableList) MarshalJSON() ([]byte, error) {
	if l.Redacted {
		return json.Marshal(redactedJSON{Redacted: true, ValueCount: l.Count})
	}
	if l.Values == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(l.Values)
}

// UnmarshalJSON implements json.Unmarshaler.
func (l *RedactableList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*l = RedactableList{}
		return nil
	}
	if len(b) > 0 && b[0] == '{' {
		var r redactedJSON
		if err := strictUnmarshal(b, &r); err != nil || !r.Redacted {
			return errRedactedShape
		}
		*l = RedactableList{Redacted: true, Count: r.ValueCount}
		return nil
	}
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("expected an array of strings")
	}
	*l = RedactableList{Values: v}
	return nil
}

// RedactableMap is a string map that responses redact. In requests it is a
// JSON object of strings; in responses {"redacted":true,"valueCount":n}.
type RedactableMap struct {
	Values   map[string]string
	Redacted bool
	Count    int
}

// Len is the number of entries, whether redacted or not.
func (m RedactableMap) Len() int {
	if m.Redacted {
		return m.Count
	}
	return len(m.Values)
}

// Redact returns the redacted form of m.
func (m RedactableMap) Redact() RedactableMap {
	return RedactableMap{Redacted: true, Count: m.Len()}
}

// MarshalJSON implements json.Marshaler.
func (m RedactableMap) MarshalJSON() ([]byte, error) {
	if m.Redacted {
		return json.Marshal(redactedJSON{Redacted: true, ValueCount: m.Count})
	}
	if m.Values == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(m.Values)
}

// UnmarshalJSON implements json.Unmarshaler. A redacted form is recognised
// by its "redacted" key; anything else must be an object of strings.
func (m *RedactableMap) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*m = RedactableMap{}
		return nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return errors.New("expected an object of string values")
	}
	if raw, ok := probe["redacted"]; ok && !bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) {
		var r redactedJSON
		if err := strictUnmarshal(b, &r); err != nil || !r.Redacted {
			return errRedactedShape
		}
		*m = RedactableMap{Redacted: true, Count: r.ValueCount}
		return nil
	}
	var v map[string]string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("expected an object of string values")
	}
	*m = RedactableMap{Values: v}
	return nil
}

// Secret is a single secret string: a JSON string in requests,
// {"redacted":true,"valueCount":1} in responses.
type Secret struct {
	Value    string
	Redacted bool
}

// Redact returns the redacted form of s.
func (s Secret) Redact() Secret { return Secret{Redacted: true} }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s.Redacted {
		return json.Marshal(redactedJSON{Redacted: true, ValueCount: 1})
	}
	return json.Marshal(s.Value)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Secret) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var r redactedJSON
		if err := strictUnmarshal(b, &r); err != nil || !r.Redacted {
			return errRedactedShape
		}
		*s = Secret{Redacted: true}
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("expected a string")
	}
	*s = Secret{Value: v}
	return nil
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

package api

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

var (
	nameRe       = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	labelKeyRe   = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,63}$`)
	labelValueRe = regexp.MustCompile(`^[A-Za-z0-9._-]{0,63}$`)
	envKeyRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// SandboxIDPattern and SessionIDPattern match sandbox and session ids.
var (
	SandboxIDPattern = regexp.MustCompile(`^sbx-[a-z0-9]{1,60}$`)
	SessionIDPattern = regexp.MustCompile(`^ses-[a-z0-9]{1,60}$`)
)

// NameRule describes valid names and tenant ids, for error messages.
const NameRule = "must be a lowercase DNS label: 1-63 characters of a-z, 0-9 and '-', starting with a letter"

// ValidateName checks a service name or tenant id.
func ValidateName(s string) error {
	if !nameRe.MatchString(s) {
		return fmt.Errorf("%q %s", s, NameRule)
	}
	return nil
}

// ID and environment rules, for error messages.
const (
	SandboxIDRule = "must be a sandbox id such as sbx-0123abcd"
	SessionIDRule = "must be a session id such as ses-0123abcd"
	EnvNameRule   = "must match [A-Za-z_][A-Za-z0-9_]*"
)

// ValidSandboxID reports whether s looks like a sandbox id.
func ValidSandboxID(s string) bool { return SandboxIDPattern.MatchString(s) }

// ValidSessionID reports whether s looks like a session id.
func ValidSessionID(s string) bool { return SessionIDPattern.MatchString(s) }

// ValidEnvName reports whether s is a valid environment variable name.
func ValidEnvName(s string) bool { return envKeyRe.MatchString(s) }

// Image reference and health path rules, for error messages.
const (
	ImageReferenceRule = "must be an OCI image reference without whitespace, at most 1024 characters"
	HealthPathRule     = "must start with '/', e.g. /healthz"
)

// ValidImageReference reports whether s can be an OCI image reference: not
// empty, no whitespace, at most 1024 characters.
func ValidImageReference(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n") && len(s) <= 1024
}

// ValidHealthPath reports whether s is a health-check path.
func ValidHealthPath(s string) bool { return strings.HasPrefix(s, "/") }

// Violations collects field violations.
type Violations []FieldViolation

// Add records a violation of field.
func (v *Violations) Add(field, format string, args ...any) {
	*v = append(*v, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// ValidateLabels checks a label map against the API's limits.
func ValidateLabels(field string, labels map[string]string, v *Violations) {
	if len(labels) > MaxLabels {
		v.Add(field, "at most %d labels are allowed, got %d", MaxLabels, len(labels))
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := fmt.Sprintf("%s[%q]", field, k)
		if !ValidLabelKey(k) {
			v.Add(f, "label key %q %s", k, LabelKeyRule)
		}
		if !ValidLabelValue(labels[k]) {
			v.Add(f, "label value %s", LabelValueRule)
		}
	}
}

// Label rules, for error messages.
const (
	LabelKeyRule   = "must be 1-63 characters of A-Z, a-z, 0-9, '.', '_', '/' and '-'"
	LabelValueRule = "must be 0-63 characters of A-Z, a-z, 0-9, '.', '_' and '-'"
)

// ValidLabelKey reports whether k is a valid label key.
func ValidLabelKey(k string) bool { return labelKeyRe.MatchString(k) }

// ValidLabelValue reports whether s is a valid label value.
func ValidLabelValue(s string) bool { return labelValueRe.MatchString(s) }

func oneOf(v *Violations, field, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		if got == "" {
			v.Add(field, "is required; one of %s", strings.Join(quoteAll(allowed), ", "))
			return
		}
		v.Add(field, "unknown value %q; must be one of %s", got, strings.Join(quoteAll(allowed), ", "))
	}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// ValidateSandboxSpec checks a sandbox spec. wantOwner is the owner kind the
// context requires (service for a service backend, standalone for a sandbox).
func ValidateSandboxSpec(field string, s *SandboxSpec, wantOwner string, v *Violations) {
	oneOf(v, field+".owner.kind", s.Owner.Kind, wantOwner)
	switch s.Owner.Kind {
	case OwnerKindService:
		if s.Owner.DisplayName != "" {
			v.Add(field+".owner.displayName", "is only allowed for owner kind %q", OwnerKindStandalone)
		}
	case OwnerKindStandalone:
		if s.Owner.ServiceName != "" {
			v.Add(field+".owner.serviceName", "is only allowed for owner kind %q", OwnerKindService)
		}
		if len(s.Owner.DisplayName) > 253 {
			v.Add(field+".owner.displayName", "must be at most 253 characters")
		}
	}
	oneOf(v, field+".backend", s.Backend, RuntimeContainer, RuntimeKrun)
	oneOf(v, field+".root.kind", s.Root.Kind, RootKindOCIImage)
	oneOf(v, field+".root.source.kind", s.Root.Source.Kind, SourceKindReference)
	if s.Root.Source.Reference == "" {
		v.Add(field+".root.source.reference", "is required: an OCI image reference such as docker.io/library/alpine:3")
	} else if !ValidImageReference(s.Root.Source.Reference) {
		v.Add(field+".root.source.reference", "%s", ImageReferenceRule)
	}
	if s.Process.Argv.Redacted {
		v.Add(field+".process.argv", "a redacted placeholder cannot be submitted; send the actual argv values")
	}
	if s.Process.Environment.Redacted {
		v.Add(field+".process.environment", "a redacted placeholder cannot be submitted; send the actual environment values")
	}
	if len(s.Process.Argv.Values) > 1024 {
		v.Add(field+".process.argv", "at most 1024 arguments are allowed")
	}
	keys := make([]string, 0, len(s.Process.Environment.Values))
	for k := range s.Process.Environment.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !ValidEnvName(k) {
			v.Add(field+".process.environment", "variable name %q %s", k, EnvNameRule)
		}
	}
}

// ValidateBackend checks a service backend. serviceName is the service the
// backend belongs to (a sandbox backend's owner must name it).
func ValidateBackend(field string, b *Backend, serviceName string, v *Violations) {
	oneOf(v, field+".kind", b.Kind, BackendKindSandbox, BackendKindBuiltIn, BackendKindExternal)
	if b.Kind != BackendKindSandbox && b.Sandbox != nil {
		v.Add(field+".sandbox", "is only allowed with kind %q", BackendKindSandbox)
	}
	if b.Kind != BackendKindBuiltIn && b.Provider != "" {
		v.Add(field+".provider", "is only allowed with kind %q", BackendKindBuiltIn)
	}
	if b.Kind != BackendKindExternal {
		if b.Endpoint != nil {
			v.Add(field+".endpoint", "is only allowed with kind %q", BackendKindExternal)
		}
		if b.Auth != nil {
			v.Add(field+".auth", "is only allowed with kind %q", BackendKindExternal)
		}
		if b.Health != nil {
			v.Add(field+".health", "is only allowed with kind %q", BackendKindExternal)
		}
	}
	switch b.Kind {
	case BackendKindSandbox:
		if b.Sandbox == nil {
			v.Add(field+".sandbox", "is required with kind %q", BackendKindSandbox)
			return
		}
		ValidateSandboxSpec(field+".sandbox", b.Sandbox, OwnerKindService, v)
		if b.Sandbox.Owner.Kind == OwnerKindService && serviceName != "" && b.Sandbox.Owner.ServiceName != serviceName {
			v.Add(field+".sandbox.owner.serviceName", "must be the service's own name %q, got %q", serviceName, b.Sandbox.Owner.ServiceName)
		}
	case BackendKindBuiltIn:
		oneOf(v, field+".provider", b.Provider, BuiltInProviders...)
	case BackendKindExternal:
		if b.Endpoint == nil || b.Endpoint.URL == "" {
			v.Add(field+".endpoint.url", "is required with kind %q: the http(s) URL Nimbus health-checks", BackendKindExternal)
		} else if p := ExternalURLProblem(b.Endpoint.URL, field+".auth.token"); p != "" {
			v.Add(field+".endpoint.url", "%s", p)
		}
		if b.Auth != nil {
			oneOf(v, field+".auth.kind", b.Auth.Kind, AuthKindNone, AuthKindBearer)
			switch {
			case b.Auth.Kind == AuthKindBearer && (b.Auth.Token == nil || b.Auth.Token.Value == ""):
				if b.Auth.Token != nil && b.Auth.Token.Redacted {
					v.Add(field+".auth.token", "a redacted placeholder cannot be submitted; send the actual token")
				} else {
					v.Add(field+".auth.token", "is required with auth kind %q", AuthKindBearer)
				}
			case b.Auth.Kind == AuthKindNone && b.Auth.Token != nil:
				v.Add(field+".auth.token", "is only allowed with auth kind %q", AuthKindBearer)
			}
		}
		if b.Health != nil {
			oneOf(v, field+".health.kind", b.Health.Kind, HealthKindHTTP)
			if b.Health.Path != "" && !ValidHealthPath(b.Health.Path) {
				v.Add(field+".health.path", "%s", HealthPathRule)
			}
		}
	}
}

// ExternalURLProblem says what is wrong with an external service's endpoint
// URL, or returns "". The URL must be an absolute http or https URL without
// credentials: no user:password@ part and no query parameter named like a
// secret (key, token, secret, password, apikey, api_key, access_token, …).
// The URL is returned as-is in every response, so a credential in it would
// leak; tokenField names the field where a credential belongs instead.
// Problem texts never repeat the URL.
func ExternalURLProblem(raw, tokenField string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL such as https://search.internal:9200"
	}
	if u.User != nil {
		return fmt.Sprintf("must not contain credentials (the user:password@ part): the URL is shown in every response; send a bearer token in %s instead", tokenField)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "has a malformed query string"
	}
	names := make([]string, 0, len(q))
	for k := range q {
		if SecretParamName(k) {
			names = append(names, fmt.Sprintf("%q", k))
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		return fmt.Sprintf("must not carry credentials in its query (parameter %s): the URL is shown in every response; send a bearer token in %s instead", strings.Join(names, ", "), tokenField)
	}
	return ""
}

// SecretParamName reports whether a query parameter name looks like it
// carries a credential: key, token, secret, password, apikey, api_key,
// access_token, client_secret, signature, auth, any name ending in key, in
// any case and with '-', '_' or '.' anywhere.
func SecretParamName(name string) bool {
	n := strings.NewReplacer("-", "", "_", "", ".", "").Replace(strings.ToLower(name))
	switch n {
	case "key", "auth", "authorization", "sig", "pwd", "pass", "jwt", "session", "sessionid", "bearer":
		return true
	}
	for _, s := range []string{"token", "secret", "password", "passwd", "credential", "signature"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return strings.HasSuffix(n, "key") // appkey, subscription-key, x-functions-key
}

// Validate checks a create-service request.
func (r *CreateServiceRequest) Validate() Violations {
	var v Violations
	if err := ValidateName(r.Name); err != nil {
		v.Add("name", "%s", NameRule)
	}
	ValidateBackend("backend", &r.Backend, r.Name, &v)
	ValidateLabels("labels", r.Labels, &v)
	return v
}

// Validate checks an update-service request for the named service.
func (r *UpdateServiceRequest) Validate(name string) Violations {
	var v Violations
	if r.Backend != nil {
		ValidateBackend("backend", r.Backend, name, &v)
	}
	if r.Labels != nil {
		ValidateLabels("labels", *r.Labels, &v)
	}
	if r.IfMatchGeneration != nil && *r.IfMatchGeneration < 1 {
		v.Add("ifMatchGeneration", "must be a generation you read (1 or more)")
	}
	return v
}

// Validate checks a create-sandbox request.
func (r *CreateSandboxRequest) Validate() Violations {
	var v Violations
	oneOf(&v, "profile", r.Profile, ProfileWorker, ProfileDesktop)
	ValidateSandboxSpec("spec", &r.Spec, OwnerKindStandalone, &v)
	ValidateLabels("labels", r.Labels, &v)
	return v
}

// Validate checks an update-sandbox request.
func (r *UpdateSandboxRequest) Validate() Violations {
	var v Violations
	if r.Labels != nil {
		ValidateLabels("labels", *r.Labels, &v)
	}
	if r.IfMatchGeneration != nil && *r.IfMatchGeneration < 1 {
		v.Add("ifMatchGeneration", "must be a generation you read (1 or more)")
	}
	return v
}

// Validate checks an open-session request.
func (r *OpenSessionRequest) Validate() Violations {
	var v Violations
	switch {
	case r.Target.Service == nil && r.Target.Sandbox == nil:
		v.Add("target", "exactly one of target.service or target.sandbox is required")
	case r.Target.Service != nil && r.Target.Sandbox != nil:
		v.Add("target", "exactly one of target.service or target.sandbox is allowed, got both")
	case r.Target.Service != nil:
		if err := ValidateName(r.Target.Service.Name); err != nil {
			v.Add("target.service.name", "%s", NameRule)
		}
	case r.Target.Sandbox != nil:
		if !ValidSandboxID(r.Target.Sandbox.ID) {
			v.Add("target.sandbox.id", "%s", SandboxIDRule)
		}
	}
	if len(r.Channels) == 0 {
		v.Add("channels", "at least one channel is required; one or more of %s", strings.Join(quoteAll(Channels), ", "))
	}
	seen := map[string]bool{}
	for i, c := range r.Channels {
		f := fmt.Sprintf("channels[%d]", i)
		oneOf(&v, f, c, Channels...)
		if seen[c] {
			v.Add(f, "duplicate channel %q", c)
		}
		seen[c] = true
	}
	if r.RequestedTTLMs != 0 && (r.RequestedTTLMs < MinSessionTTLMs || r.RequestedTTLMs > MaxSessionTTLMs) {
		v.Add("requestedTtlMs", "must be between %d (1s) and %d (24h) milliseconds, got %d", MinSessionTTLMs, MaxSessionTTLMs, r.RequestedTTLMs)
	}
	ValidateLabels("labels", r.Labels, &v)
	return v
}

// ----------------------------------------------------------------- redaction

// Redacted returns a copy of s safe to put in a response or a log.
func (s SandboxSpec) Redacted() SandboxSpec {
	s.Process = Process{Argv: s.Process.Argv.Redact(), Environment: s.Process.Environment.Redact()}
	return s
}

// Redacted returns a copy of b safe to put in a response or a log.
func (b Backend) Redacted() Backend {
	if b.Sandbox != nil {
		sb := b.Sandbox.Redacted()
		b.Sandbox = &sb
	}
	if b.Auth != nil && b.Auth.Token != nil {
		a := *b.Auth
		t := a.Token.Redact()
		a.Token = &t
		b.Auth = &a
	}
	return b
}

// Redacted returns a copy of s with every launch input and secret redacted.
func (s Service) Redacted() Service {
	s.Spec.Backend = s.Spec.Backend.Redacted()
	return s
}

// Redacted returns a copy of s with every launch input redacted.
func (s Sandbox) Redacted() Sandbox {
	s.Spec.SandboxSpec = s.Spec.SandboxSpec.Redacted()
	return s
}

package api

import (
	"maps"
	"slices"
)

// Equal reports whether b and o describe the same backend, the way the
// server sees them: a nil and an empty list or map are the same, as on the
// wire. Values held redacted on either side (every response redacts them)
// are compared as far as the redaction shows: a redacted list or map equals
// one with as many values, a redacted secret equals any secret.
func (b Backend) Equal(o Backend) bool {
	return b.Kind == o.Kind && b.Provider == o.Provider &&
		equalPtr(b.Sandbox, o.Sandbox, SandboxSpec.Equal) &&
		equalPtr(b.Endpoint, o.Endpoint, func(x, y ExternalEndpoint) bool { return x == y }) &&
		equalPtr(b.Auth, o.Auth, ExternalAuth.Equal) &&
		equalPtr(b.Health, o.Health, func(x, y HealthCheck) bool { return x == y })
}

// Equal reports whether s and o describe the same sandbox (see
// Backend.Equal for redacted values).
func (s SandboxSpec) Equal(o SandboxSpec) bool {
	return s.Owner == o.Owner && s.Backend == o.Backend && s.Root == o.Root &&
		s.Process.Argv.Equal(o.Process.Argv) && s.Process.Environment.Equal(o.Process.Environment)
}

// Equal reports whether a and o are the same authentication (a redacted
// token equals any token).
func (a ExternalAuth) Equal(o ExternalAuth) bool {
	return a.Kind == o.Kind && equalPtr(a.Token, o.Token, Secret.Equal)
}

// Equal reports whether l and o hold the same values; when either is
// redacted, whether they hold as many.
func (l RedactableList) Equal(o RedactableList) bool {
	if l.Redacted || o.Redacted {
		return l.Len() == o.Len()
	}
	return slices.Equal(l.Values, o.Values)
}

// Equal reports whether m and o hold the same entries; when either is
// redacted, whether they hold as many.
func (m RedactableMap) Equal(o RedactableMap) bool {
	if m.Redacted || o.Redacted {
		return m.Len() == o.Len()
	}
	return maps.Equal(m.Values, o.Values)
}

// Equal reports whether s and o are the same secret; a redacted secret
// equals any secret.
func (s Secret) Equal(o Secret) bool {
	return s.Redacted || o.Redacted || s.Value == o.Value
}

// equalPtr compares two optional values: both absent, or both present and
// equal.
func equalPtr[T any](a, b *T, eq func(T, T) bool) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return eq(*a, *b)
}

package api

import (
	"encoding/json"
	"slices"
	"testing"
)

func sandboxBackend(argv []string, env map[string]string) Backend {
	return Backend{Kind: BackendKindSandbox, Sandbox: &SandboxSpec{
		Owner:   Owner{Kind: OwnerKindService, ServiceName: "web"},
		Backend: RuntimeContainer,
		Root:    Root{Kind: RootKindOCIImage, Source: RootSource{Kind: SourceKindReference, Reference: "docker.io/library/alpine:3"}},
		Process: Process{Argv: RedactableList{Values: argv}, Environment: RedactableMap{Values: env}},
	}}
}

func externalBackend(url, path string, token *Secret) Backend {
	b := Backend{Kind: BackendKindExternal, Endpoint: &ExternalEndpoint{URL: url}}
	if path != "" {
		b.Health = &HealthCheck{Kind: HealthKindHTTP, Path: path}
	}
	if token != nil {
		b.Auth = &ExternalAuth{Kind: AuthKindBearer, Token: token}
	}
	return b
}

// equalBackends are pairs of backends that are the same to the server.
var equalBackends = [][2]Backend{
	{sandboxBackend([]string{"sleep", "1"}, map[string]string{"A": "1"}), sandboxBackend([]string{"sleep", "1"}, map[string]string{"A": "1"})},
	{sandboxBackend(nil, nil), sandboxBackend([]string{}, map[string]string{})},
	{{Kind: BackendKindBuiltIn, Provider: "loadBalancer"}, {Kind: BackendKindBuiltIn, Provider: "loadBalancer"}},
	{externalBackend("https://x", "/healthz", &Secret{Value: "t"}), externalBackend("https://x", "/healthz", &Secret{Value: "t"})},
}

// differentBackends are pairs of backends that differ.
var differentBackends = [][2]Backend{
	{sandboxBackend([]string{"sleep", "1"}, nil), sandboxBackend([]string{"sleep", "2"}, nil)},
	{sandboxBackend([]string{"sleep", "1"}, nil), sandboxBackend([]string{"sleep"}, nil)},
	{sandboxBackend(nil, map[string]string{"A": "1"}), sandboxBackend(nil, map[string]string{"A": "2"})},
	{sandboxBackend(nil, map[string]string{"A": "1"}), sandboxBackend(nil, nil)},
	{{Kind: BackendKindBuiltIn, Provider: "loadBalancer"}, {Kind: BackendKindBuiltIn, Provider: "cache"}},
	{{Kind: BackendKindBuiltIn, Provider: "loadBalancer"}, sandboxBackend(nil, nil)},
	{externalBackend("https://x", "/healthz", nil), externalBackend("https://y", "/healthz", nil)},
	{externalBackend("https://x", "/healthz", nil), externalBackend("https://x", "", nil)},
	{externalBackend("https://x", "", &Secret{Value: "t"}), externalBackend("https://x", "", &Secret{Value: "u"})},
	{externalBackend("https://x", "", &Secret{Value: "t"}), externalBackend("https://x", "", nil)},
}

func TestBackendEqual(t *testing.T) {
	for i, p := range equalBackends {
		if !p[0].Equal(p[1]) || !p[1].Equal(p[0]) {
			t.Errorf("equal pair %d: Equal = false, want true", i)
		}
	}
	for i, p := range differentBackends {
		if p[0].Equal(p[1]) || p[1].Equal(p[0]) {
			t.Errorf("different pair %d: Equal = true, want false", i)
		}
	}
}

// TestBackendEqualRedacted: a value the server answered redacted is
// compared as far as the redaction shows (the number of values, a token's
// presence), so a request equals the server's answer for it.
func TestBackendEqualRedacted(t *testing.T) {
	for i, p := range append(equalBackends, differentBackends...) {
		if !p[0].Equal(p[0].Redacted()) || !p[0].Redacted().Equal(p[0]) {
			t.Errorf("pair %d: a backend differs from its own redacted form", i)
		}
	}
	// Hidden by the redaction: same number of values, another token.
	hidden := [][2]Backend{
		{sandboxBackend([]string{"sleep", "1"}, map[string]string{"A": "1"}), sandboxBackend([]string{"sleep", "2"}, map[string]string{"A": "2"})},
		{externalBackend("https://x", "", &Secret{Value: "t"}), externalBackend("https://x", "", &Secret{Value: "u"})},
	}
	for i, p := range hidden {
		if !p[0].Equal(p[1].Redacted()) {
			t.Errorf("hidden pair %d: a difference the redaction hides counts as a difference", i)
		}
	}
	// Shown by the redaction: the count, the token's presence, the rest.
	shown := [][2]Backend{
		{sandboxBackend([]string{"sleep", "1"}, nil), sandboxBackend([]string{"sleep"}, nil)},
		{sandboxBackend(nil, map[string]string{"A": "1"}), sandboxBackend(nil, nil)},
		{externalBackend("https://x", "", &Secret{Value: "t"}), externalBackend("https://x", "", nil)},
		{externalBackend("https://x", "/a", &Secret{Value: "t"}), externalBackend("https://x", "/b", &Secret{Value: "t"})},
	}
	for i, p := range shown {
		if p[0].Equal(p[1].Redacted()) {
			t.Errorf("shown pair %d: a difference the redaction shows is missed", i)
		}
	}
}

// TestBackendEqualMatchesWire: against a response (redacted), Equal agrees
// with comparing the JSON of the redacted request, which the client did
// before Equal existed.
func TestBackendEqualMatchesWire(t *testing.T) {
	all := slices.Concat(equalBackends, differentBackends)
	var bs []Backend
	for _, p := range all {
		bs = append(bs, p[0], p[1])
	}
	for i, a := range bs {
		for j, b := range bs {
			x, err := json.Marshal(a.Redacted())
			if err != nil {
				t.Fatal(err)
			}
			y, err := json.Marshal(b.Redacted())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := a.Equal(b.Redacted()), string(x) == string(y); got != want {
				t.Errorf("backends %d and %d: Equal = %v, JSON equal = %v (%s vs %s)", i, j, got, want, x, y)
			}
		}
	}
}

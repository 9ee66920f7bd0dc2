package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactableListRoundTrip(t *testing.T) {
	var l RedactableList
	if err := json.Unmarshal([]byte(`["node","server.js"]`), &l); err != nil {
		t.Fatal(err)
	}
	if l.Redacted || len(l.Values) != 2 {
		t.Fatalf("got %+v", l)
	}
	b, err := json.Marshal(l.Redact())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"redacted":true,"valueCount":2}` {
		t.Fatalf("redacted form %s", b)
	}
	var back RedactableList
	if err := json.Unmarshal(b, &back); err != nil || !back.Redacted || back.Len() != 2 {
		t.Fatalf("back %+v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"redacted":false}`), &back); err == nil {
		t.Fatal("accepted a non-redacted object")
	}
	if err := json.Unmarshal([]byte(`[1]`), &back); err == nil {
		t.Fatal("accepted numbers")
	}
}

func TestRedactableMapRoundTrip(t *testing.T) {
	var m RedactableMap
	if err := json.Unmarshal([]byte(`{"A":"1","redacted":"yes"}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.Redacted || m.Values["redacted"] != "yes" {
		t.Fatalf("a variable named redacted was misread: %+v", m)
	}
	b, _ := json.Marshal(m.Redact())
	if string(b) != `{"redacted":true,"valueCount":2}` {
		t.Fatalf("redacted form %s", b)
	}
	if err := json.Unmarshal(b, &m); err != nil || !m.Redacted || m.Len() != 2 {
		t.Fatalf("back %+v %v", m, err)
	}
}

func TestServiceRedactedHidesSecrets(t *testing.T) {
	s := Service{Spec: ServiceSpec{Backend: Backend{Kind: BackendKindSandbox, Sandbox: &SandboxSpec{
		Process: Process{Argv: RedactableList{Values: []string{"--password=hunter2"}}, Environment: RedactableMap{Values: map[string]string{"TOKEN": "s3cr3t"}}},
	}}}}
	b, err := json.Marshal(s.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "s3cr3t") {
		t.Fatalf("secret leaked: %s", b)
	}
	if s.Spec.Backend.Sandbox.Process.Argv.Redacted {
		t.Fatal("Redacted mutated the original")
	}
	e := Backend{Kind: BackendKindExternal, Auth: &ExternalAuth{Kind: AuthKindBearer, Token: &Secret{Value: "tok"}}}
	b, _ = json.Marshal(e.Redacted())
	if strings.Contains(string(b), "tok\"") {
		t.Fatalf("token leaked: %s", b)
	}
}

func TestValidateCreateService(t *testing.T) {
	ok := CreateServiceRequest{Name: "worker", Backend: Backend{Kind: BackendKindBuiltIn, Provider: ProviderBrowser}}
	if v := ok.Validate(); len(v) != 0 {
		t.Fatalf("valid request rejected: %v", v)
	}
	cases := map[string]struct {
		req   CreateServiceRequest
		field string
	}{
		"bad name":         {CreateServiceRequest{Name: "Worker", Backend: ok.Backend}, "name"},
		"unknown kind":     {CreateServiceRequest{Name: "w", Backend: Backend{Kind: "vm"}}, "backend.kind"},
		"unknown provider": {CreateServiceRequest{Name: "w", Backend: Backend{Kind: BackendKindBuiltIn, Provider: "dns"}}, "backend.provider"},
		"two backends":     {CreateServiceRequest{Name: "w", Backend: Backend{Kind: BackendKindBuiltIn, Provider: ProviderBrowser, Endpoint: &ExternalEndpoint{URL: "http://x"}}}, "backend.endpoint"},
		"external bad url": {CreateServiceRequest{Name: "w", Backend: Backend{Kind: BackendKindExternal, Endpoint: &ExternalEndpoint{URL: "ftp://x"}}}, "backend.endpoint.url"},
		"bad label":        {CreateServiceRequest{Name: "w", Backend: ok.Backend, Labels: map[string]string{"a b": "c"}}, `labels["a b"]`},
		"wrong owner":      {CreateServiceRequest{Name: "w", Backend: Backend{Kind: BackendKindSandbox, Sandbox: &SandboxSpec{Owner: Owner{Kind: OwnerKindService, ServiceName: "other"}, Backend: RuntimeContainer, Root: Root{Kind: RootKindOCIImage, Source: RootSource{Kind: SourceKindReference, Reference: "alpine"}}}}}, "backend.sandbox.owner.serviceName"},
		"redacted argv":    {CreateServiceRequest{Name: "w", Backend: Backend{Kind: BackendKindSandbox, Sandbox: &SandboxSpec{Owner: Owner{Kind: OwnerKindService, ServiceName: "w"}, Backend: RuntimeContainer, Root: Root{Kind: RootKindOCIImage, Source: RootSource{Kind: SourceKindReference, Reference: "alpine"}}, Process: Process{Argv: RedactableList{Redacted: true, Count: 1}}}}}, "backend.sandbox.process.argv"},
		"health path":      {CreateServiceRequest{Name: "w", Backend: Backend{Kind: BackendKindExternal, Endpoint: &ExternalEndpoint{URL: "http://127.0.0.1:1"}, Health: &HealthCheck{Kind: HealthKindHTTP, Path: "healthz"}}}, "backend.health.path"},
		"bearer no token":  {CreateServiceRequest{Name: "w", Backend: Backend{Kind: BackendKindExternal, Endpoint: &ExternalEndpoint{URL: "http://127.0.0.1:1"}, Auth: &ExternalAuth{Kind: AuthKindBearer}}}, "backend.auth.token"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			v := c.req.Validate()
			for _, f := range v {
				if f.Field == c.field {
					return
				}
			}
			t.Fatalf("want a violation of %s, got %v", c.field, v)
		})
	}
}

func TestValidateOpenSession(t *testing.T) {
	r := OpenSessionRequest{Target: SessionTarget{Service: &ServiceRef{Name: "w"}}, Channels: []string{ChannelStdio}}
	if v := r.Validate(); len(v) != 0 {
		t.Fatalf("valid request rejected: %v", v)
	}
	r.Channels = []string{"ssh", ChannelStdio, ChannelStdio}
	r.RequestedTTLMs = 10
	r.Target.Sandbox = &SandboxRef{ID: "sbx-1"}
	v := r.Validate()
	if len(v) != 4 {
		t.Fatalf("want 4 violations (target, unknown channel, duplicate, ttl), got %v", v)
	}
}

func TestHTTPStatusCoversCatalog(t *testing.T) {
	want := map[string]int{CodeInvalid: 400, CodeTooLarge: 413, CodeUnauthenticated: 401, CodePermissionDenied: 403,
		CodeNotFound: 404, CodeAlreadyExists: 409, CodeConflict: 409, CodePreconditionFailed: 412,
		CodePreconditionRequired: 428, CodeRateLimited: 429, CodeUnavailable: 503, CodeInternal: 500}
	for code, status := range want {
		if got := HTTPStatus(code); got != status {
			t.Errorf("%s: got %d want %d", code, got, status)
		}
	}
}

package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// resp is a decoded HTTP response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) err() api.ErrorBody {
	var e api.ErrorResponse
	_ = json.Unmarshal(r.body, &e)
	return e.Error
}

func (r resp) into(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// decoded expects status (without an error code) and returns r's body
// decoded as a T.
func decoded[T any](t testing.TB, r resp, status int) T {
	t.Helper()
	expect(t, r, status, "")
	var v T
	r.into(t, &v)
	return v
}

// reqOpt changes a request.
type reqOpt func(*http.Request)

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

func noAuth() reqOpt { return func(r *http.Request) { r.Header.Del("Authorization") } }

// do sends method path with body (a []byte, string or value marshalled to
// JSON; nil for none), authenticated with the test token.
func do(t testing.TB, srv *testserver.Server, method, path string, body any, opts ...reqOpt) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	for _, o := range opts {
		o(req)
	}
	r := roundTrip(t, http.DefaultClient, req)
	if r.header.Get(api.HeaderRequestID) == "" {
		t.Errorf("%s %s: response without %s", method, path, api.HeaderRequestID)
	}
	if r.status >= 500 && r.status != 503 {
		t.Errorf("%s %s: server error %d %s", method, path, r.status, r.body)
	}
	return r
}

// roundTrip sends req with c and returns the response, read whole.
func roundTrip(t testing.TB, c *http.Client, req *http.Request) resp {
	t.Helper()
	hr, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.RequestURI(), err)
	}
	defer hr.Body.Close()
	b, err := io.ReadAll(hr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{status: hr.StatusCode, header: hr.Header, body: b}
}

func expect(t testing.TB, r resp, status int, code string) api.ErrorBody {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	e := r.err()
	if code != "" {
		if e.Code != code {
			t.Fatalf("code %q, want %q: %s", e.Code, code, r.body)
		}
		if e.RequestID == "" || e.RequestID != r.header.Get(api.HeaderRequestID) {
			t.Fatalf("error requestId %q does not repeat the header %q", e.RequestID, r.header.Get(api.HeaderRequestID))
		}
		if e.Message == "" {
			t.Fatalf("error without message: %s", r.body)
		}
	}
	return e
}

const tp = "/v1/tenants/acc"

// The server tests' services and sandboxes are testfixtures' builders
// with the defaults below: a load balancer for the built-in backend, and a
// process whose argv and environment carry the secrets the redaction
// tests look for in responses, logs and the state file.

func builtInService(name string, labels map[string]string) api.CreateServiceRequest {
	return testfixtures.BuiltInService(name, api.ProviderLoadBalancer, labels)
}

// secretArgv and secretEnv return fresh values, so that a test which
// changes one request's process changes no other.
func secretArgv() []string { return []string{"server", "--password=argv-secret-value"} }

func secretEnv() map[string]string { return map[string]string{"DB_PASSWORD": "env-secret-value"} }

func sandboxService(name, image string) api.CreateServiceRequest {
	return testfixtures.SandboxService(name, image, secretArgv(), secretEnv(), nil)
}

func standaloneSandbox(image string) api.CreateSandboxRequest {
	return testfixtures.StandaloneSandbox("job", image, secretArgv(), secretEnv(), nil)
}

func getService(t testing.TB, srv *testserver.Server, name string) api.Service {
	t.Helper()
	return decoded[api.Service](t, do(t, srv, "GET", tp+"/services/"+name, nil), 200)
}

// waitFor long-polls the object at path until cond holds (at most 10s).
func waitFor[T any](t testing.TB, srv *testserver.Server, path string, rv func(*T) string, cond func(*T) bool) *T {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	q := ""
	for {
		r := do(t, srv, "GET", path+q, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		v := new(T)
		r.into(t, v)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met on %s; last: %s", path, r.body)
		}
		q = "?" + url.Values{api.QueryChangedSince: {rv(v)}, api.QueryWaitMs: {"2000"}}.Encode()
	}
}

func waitService(t testing.TB, srv *testserver.Server, name string, cond func(*api.Service) bool) *api.Service {
	t.Helper()
	return waitFor(t, srv, tp+"/services/"+name, func(s *api.Service) string { return s.Metadata.ResourceVersion }, cond)
}

func waitSandbox(t testing.TB, srv *testserver.Server, id string, cond func(*api.Sandbox) bool) *api.Sandbox {
	t.Helper()
	return waitFor(t, srv, tp+"/sandboxes/"+id, func(s *api.Sandbox) string { return s.Metadata.ResourceVersion }, cond)
}

func stateIs(state string) func(*api.Service) bool {
	return func(s *api.Service) bool { return s.Status.LifecycleState == state }
}

func readyOn(gen int64) func(*api.Service) bool {
	return func(s *api.Service) bool {
		return s.Status.LifecycleState == api.ServiceRunning && s.Status.Readiness == api.ReadinessReady && s.Status.ObservedGeneration >= gen
	}
}

func sbxState(state string) func(*api.Sandbox) bool {
	return func(s *api.Sandbox) bool { return s.Status.LifecycleState == state }
}

func mustCreate(t testing.TB, srv *testserver.Server, req api.CreateServiceRequest) api.Service {
	t.Helper()
	return decoded[api.Service](t, do(t, srv, "POST", tp+"/services", req), 201)
}

func mustCreateSandbox(t testing.TB, srv *testserver.Server, req api.CreateSandboxRequest) api.Sandbox {
	t.Helper()
	return decoded[api.Sandbox](t, do(t, srv, "POST", tp+"/sandboxes", req), 201)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ptr[T any](v T) *T { return &v }

var _ = fmt.Sprint

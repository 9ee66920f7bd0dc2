package server_test

import (
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// wantField expects a request.invalid whose first field violation is field.
func wantField(t *testing.T, r resp, field string) api.ErrorBody {
	t.Helper()
	e := expect(t, r, 400, api.CodeInvalid)
	if e.Details == nil || len(e.Details.FieldViolations) == 0 || e.Details.FieldViolations[0].Field != field {
		t.Fatalf("want a field violation of %s: %s", field, r.body)
	}
	return e
}

func TestExternalURLWithCredentialsIsRejected(t *testing.T) {
	srv := testserver.Start(t)
	for _, u := range []string{"http://user:PASS@127.0.0.1:1/base", "http://127.0.0.1:1/base?apikey=SECRET", "http://127.0.0.1:1/base?access_token=SECRET"} {
		req := api.CreateServiceRequest{Name: "ext", Backend: api.Backend{Kind: api.BackendKindExternal, Endpoint: &api.ExternalEndpoint{URL: u}}}
		r := do(t, srv, "POST", tp+"/services", req)
		e := wantField(t, r, "backend.endpoint.url")
		if !strings.Contains(e.Details.FieldViolations[0].Description, "backend.auth.token") {
			t.Fatalf("%s: the error does not point at backend.auth.token: %s", u, r.body)
		}
		if strings.Contains(string(r.body), "SECRET") || strings.Contains(string(r.body), "PASS") {
			t.Fatalf("%s: the error repeats the secret: %s", u, r.body)
		}
	}
	ok := api.CreateServiceRequest{Name: "ext", Backend: api.Backend{Kind: api.BackendKindExternal, Endpoint: &api.ExternalEndpoint{URL: "http://127.0.0.1:1/base?region=eu"}}}
	mustCreate(t, srv, ok)
	b := api.Backend{Kind: api.BackendKindExternal, Endpoint: &api.ExternalEndpoint{URL: "http://127.0.0.1:1/base?token=SECRET"}}
	wantField(t, do(t, srv, "PATCH", tp+"/services/ext", api.UpdateServiceRequest{Backend: &b, IfMatchGeneration: ptr(int64(1))}), "backend.endpoint.url")
}

func TestDuplicateKeysAndFieldPaths(t *testing.T) {
	srv := testserver.Start(t)
	for _, c := range []struct{ path, body, field string }{
		{"/services", `{"name":"a","name":"b","backend":{"kind":"builtIn","provider":"loadBalancer"}}`, "name"},
		{"/services", `{"name":"a","NAME":"b","backend":{"kind":"builtIn","provider":"loadBalancer"}}`, "name"},
		{"/services", `{"name":"a","backend":{"kind":"builtIn","provider":"loadBalancer","provider":"browser"}}`, "backend.provider"},
		{"/services", `{"name":"a","labels":{"team":"x","team":"y"},"backend":{"kind":"builtIn","provider":"loadBalancer"}}`, `labels["team"]`},
		{"/services", `{"name":"a","backend":{"kind":"external","endpoint":{"url":"http://127.0.0.1:1","bogus":1}}}`, "backend.endpoint.bogus"},
		{"/services", `{"name":"a","labels":{"Bad Key":"x"},"backend":{"kind":"builtIn","provider":"loadBalancer"}}`, `labels["Bad Key"]`},
		{"/services", `{"name":"a","labels":{"team":"bad value"},"backend":{"kind":"builtIn","provider":"loadBalancer"}}`, `labels["team"]`},
		{"/sandboxes", `{"profile":"worker","spec":{"owner":{"kind":"standalone"},"backend":"container","root":{"kind":"oci_image","source":{"kind":"reference","reference":"a:1","extra":2}},"process":{"argv":[],"environment":{}}}}`, "spec.root.source.extra"},
		{"/sandboxes", `{"profile":"worker","spec":{"owner":{"kind":"standalone"},"backend":"container","root":{"kind":"oci_image","source":{"kind":"reference","reference":"a:1"}},"process":{"argv":[],"environment":{"A":"1","A":"2"}}}}`, `spec.process.environment["A"]`},
		{"/sessions", `{"target":{"service":{"name":"x","name":"y"}},"channels":["stdio"]}`, "target.service.name"},
	} {
		wantField(t, do(t, srv, "POST", tp+c.path, c.body), c.field)
	}
	wantField(t, do(t, srv, "GET", tp+"/services?labelKey=a+b", nil), "labelKey")
	wantField(t, do(t, srv, "GET", tp+"/services?labelKey=a&labelValue=b+c", nil), "labelValue")
}

// TestErrorsAreJSONAndLogsClean: paths ServeMux would redirect get an API
// error; 503s while draining are logged at warn; no log line carries a
// pointer address.
func TestErrorsAreJSONAndLogsClean(t *testing.T) {
	logs := &syncBuffer{}
	srv := testserver.Start(t, func(o *testserver.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	for _, p := range []string{"/v1/tenants/acc/../acc/services", "/v1//tenants/acc/services", "/v1/tenants/acc/./services", "/v1/tenants/acc/services/web/.."} {
		r := do(t, srv, "GET", p, nil)
		if r.status/100 == 3 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %d %s %s", p, r.status, r.header.Get("Content-Type"), r.body)
		}
		wantField(t, r, "path")
	}
	mustCreate(t, srv, sandboxService("api", "registry.example/api:1"))
	do(t, srv, "POST", tp+"/services/api/start", nil)
	waitService(t, srv, "api", readyOn(1))
	mustCreate(t, srv, api.CreateServiceRequest{Name: "ext", Backend: api.Backend{Kind: api.BackendKindExternal,
		Endpoint: &api.ExternalEndpoint{URL: "http://127.0.0.1:1"}, Health: &api.HealthCheck{Kind: api.HealthKindHTTP, Path: "/h"}}})
	srv.Server.Drain()
	expect(t, do(t, srv, "GET", tp+"/services", nil), 503, api.CodeUnavailable)
	out := logs.String()
	if m := regexp.MustCompile(`0x[0-9a-f]{6,}`).FindString(out); m != "" {
		t.Fatalf("a log line holds a pointer address (%s):\n%s", m, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "status=503") && !strings.Contains(line, "level=WARN") {
			t.Fatalf("503 while draining not logged at warn: %s", line)
		}
	}
	if !strings.Contains(out, "status=503") || !strings.Contains(out, `registry.example/api:1`) {
		t.Fatalf("expected the 503 and the sandbox spec in the logs:\n%s", out)
	}
}

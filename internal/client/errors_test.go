package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestNotFound_TenantIsNotAnObject: against the real server, a call in a
// tenant the server does not have is resource.not_found for the tenant;
// IsNotFound (which callers use to drop an object from state or to treat a
// delete as done) is false for it, and true only for a missing object.
func TestNotFound_TenantIsNotAnObject(t *testing.T) {
	srv := testserver.Start(t, testserver.WithTenants("acc", "blue"))
	c := newTestClient(t, srv.URL, func(c *Config) { c.Token = srv.Token })
	ctx := context.Background()
	ghost := InTenant("ghost")

	_, objErr := c.Services.Get(ctx, "nope")
	if !IsNotFound(objErr) || IsTenantNotFound(objErr) {
		t.Fatalf("missing service: IsNotFound=%v IsTenantNotFound=%v (%v)", IsNotFound(objErr), IsTenantNotFound(objErr), objErr)
	}
	calls := map[string]error{}
	_, calls["services.get"] = c.Services.Get(ctx, "web", ghost)
	calls["services.delete"] = c.Services.Delete(ctx, "web", DeleteOptions{IfMatchGeneration: 1}, ghost)
	_, calls["sandboxes.get"] = c.Sandboxes.Get(ctx, "sbx-0123", ghost)
	calls["sandboxes.delete"] = c.Sandboxes.Delete(ctx, "sbx-0123", SandboxDeleteOptions{Force: true}, ghost)
	_, calls["sessions.get"] = c.Sessions.Get(ctx, "ses-0123", ghost)
	_, calls["sessions.close"] = c.Sessions.Close(ctx, "ses-0123", "x", ghost)
	_, calls["services.create"] = c.Services.Create(ctx, api.CreateServiceRequest{Name: "web",
		Backend: api.Backend{Kind: api.BackendKindBuiltIn, Provider: api.ProviderLoadBalancer}}, ghost)
	for name, err := range calls {
		if Code(err) != api.CodeNotFound {
			t.Errorf("%s: want resource.not_found, got %v", name, err)
			continue
		}
		if IsNotFound(err) {
			t.Errorf("%s: IsNotFound is true for a tenant that does not exist: %v", name, err)
		}
		if tenant, ok := NotFoundTenant(err); !ok || tenant != "ghost" || !IsTenantNotFound(err) {
			t.Errorf("%s: NotFoundTenant = %q, %v", name, tenant, ok)
		}
	}

	// ExplainTenantNotFound adds the tenants the credential can use.
	err := c.ExplainTenantNotFound(ctx, calls["services.get"])
	var te *TenantNotFoundError
	if !errors.As(err, &te) || te.Tenant != "ghost" || te.ListErr != nil || !slices.Equal(te.Visible, []string{"acc", "blue"}) ||
		te.Endpoint != srv.URL {
		t.Fatalf("explained: %#v", te)
	}
	if !IsTenantNotFound(err) || IsNotFound(err) || Code(err) != api.CodeNotFound || err.Error() != calls["services.get"].Error() {
		t.Fatalf("the explained error must keep the original's code and text: %v", err)
	}
	var twice *TenantNotFoundError
	if !errors.As(c.ExplainTenantNotFound(ctx, err), &twice) || errors.As(twice.Err, new(*TenantNotFoundError)) {
		t.Fatalf("explaining twice wrapped again")
	}
	if c.ExplainTenantNotFound(ctx, nil) != nil {
		t.Fatal("ExplainTenantNotFound(nil) is not nil")
	}
	for _, other := range []error{objErr, errors.New("x")} {
		if got := c.ExplainTenantNotFound(ctx, other); errors.As(got, new(*TenantNotFoundError)) || got.Error() != other.Error() {
			t.Fatalf("ExplainTenantNotFound(%v) = %v, want it unchanged", other, got)
		}
	}
}

// TestNotFound_WithoutDetailsIsNotAnObject: a 404 that names nothing (an
// unknown route, a proxy, another HTTP server) is not an object that is gone.
func TestNotFound_WithoutDetailsIsNotAnObject(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"plain 404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }},
		{"api error without details", func(w http.ResponseWriter, r *http.Request) {
			writeAPIError(w, api.CodeNotFound, "no API route", "rid", nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(c *Config) { c.MaxRetries = -1 })
			_, err := c.Services.Get(context.Background(), "web")
			if Code(err) != api.CodeNotFound || IsNotFound(err) || IsTenantNotFound(err) {
				t.Fatalf("code %q IsNotFound=%v IsTenantNotFound=%v: %v", Code(err), IsNotFound(err), IsTenantNotFound(err), err)
			}
		})
	}
	// Wrapped errors are seen through.
	e := fmt.Errorf("ctx: %w", &Error{Code: api.CodeNotFound, Details: &api.ErrorDetails{Kind: "sandbox", Name: "sbx-1"}})
	if !IsNotFound(e) {
		t.Fatal("wrapped object not-found")
	}
}

// TestValidateEndpoint: an endpoint without a scheme is malformed, and the
// error shows the expected form.
func TestValidateEndpoint(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "https://nimbus.example.com", "http://[::1]:8080/", "http://h:1/v1"} {
		if err := ValidateEndpoint(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for in, want := range map[string]string{
		"127.0.0.1:8080":     "write it as http://127.0.0.1:8080",
		"localhost:8080":     "write it as http://localhost:8080",
		"nimbus.example.com": "write it as http://nimbus.example.com",
		"[::1]:8080":         "no scheme",
		"ftp://h":            `scheme "ftp"`,
		"http://":            "no host",
	} {
		err := ValidateEndpoint(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "http://host:port") {
			t.Errorf("%q: want an error with %q and the expected form, got %v", in, want, err)
		}
	}
	if err := ValidateEndpoint("user:secret@h:1"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("user information: %v", err)
	}

	// From the environment: a ConfigError that says the value is malformed
	// and where it came from (not that the endpoint is missing).
	_, err := New(Config{Getenv: env{EnvEndpoint: "127.0.0.1:8080"}.get, HomeDir: t.TempDir()})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Setting != SettingEndpoint || !ce.Invalid || ce.Source != "environment variable "+EnvEndpoint {
		t.Fatalf("want an invalid-endpoint ConfigError, got %#v", err)
	}
	for _, want := range []string{`"127.0.0.1:8080"`, "malformed", EnvEndpoint, "http://127.0.0.1:8080"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	_, err = New(Config{Endpoint: "http://u:pw@h:1", Getenv: env{}.get, HomeDir: t.TempDir()})
	if err == nil || strings.Contains(err.Error(), "pw") || !errors.As(err, &ce) || ce.Source != SourceOption("endpoint") {
		t.Fatalf("user information: %v", err)
	}
}

// TestWaitError_MessageOnce: the server's status message appears once in a
// wait error, for a failed state and for a timeout.
func TestWaitError_MessageOnce(t *testing.T) {
	const msg = "image pull failed: manifest unknown"
	svc := &api.Service{}
	svc.Metadata.Generation = 2
	svc.Status.LifecycleState = api.ServiceFailed
	svc.Status.Message = msg
	check, err := serviceChecker("web", api.WaitReady)
	if err != nil {
		t.Fatal(err)
	}
	_, failed := check(svc)
	state, m, summary := describeService(svc)
	timeout := &WaitError{Kind: "service", Name: "web", Until: "ready", LastState: state, LastMessage: m, LastStatus: summary, Err: context.DeadlineExceeded}
	sb := &api.Sandbox{}
	sb.Status.LifecycleState = api.SandboxFailed
	sb.Status.Message = msg
	sbCheck, err := sandboxChecker("sbx-1", api.WaitRunning)
	if err != nil {
		t.Fatal(err)
	}
	_, sbFailed := sbCheck(sb)
	for name, err := range map[string]error{"service failed": failed, "service timeout": timeout, "sandbox failed": sbFailed} {
		if n := strings.Count(err.Error(), msg); n != 1 {
			t.Errorf("%s: the message appears %d times in %q", name, n, err)
		}
	}
}

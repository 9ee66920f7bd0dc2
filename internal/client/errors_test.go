package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

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
			_, err := c.Services.Get(t.Context(), "web")
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

package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

func TestFromError(t *testing.T) {
	cases := []struct {
		name             string
		err              error
		summary, details []string
	}{
		{
			name:    "precondition failed",
			err:     fmt.Errorf("wrapped: %w", &client.Error{Code: api.CodePreconditionFailed, HTTPStatus: 412, Message: "generation 3 != 4", Details: &api.ErrorDetails{CurrentGeneration: 4}}),
			summary: []string{"Could not update service \"web\"", SummaryChangedOutside},
			details: []string{"NOT applied", "terraform apply -refresh-only", "current generation is 4"},
		},
		{
			name:    "unauthenticated",
			err:     &client.Error{Code: api.CodeUnauthenticated, HTTPStatus: 401, Message: "bad token"},
			summary: []string{SummaryAuth},
			details: []string{"`token`", "NIMBUS_TOKEN", "NIMBUS_API_KEY"},
		},
		{
			name:    "permission denied",
			err:     &client.Error{Code: api.CodePermissionDenied, HTTPStatus: 403},
			summary: []string{SummaryPermission},
			details: []string{"tenant_id", "NIMBUS_TENANT_ID"},
		},
		{
			name:    "not found",
			err:     &client.Error{Code: api.CodeNotFound, HTTPStatus: 404, Details: &api.ErrorDetails{Kind: "service", Name: "web"}},
			details: []string{"does not exist", "re-creation"},
		},
		{
			name:    "not found without details",
			err:     &client.Error{Code: api.CodeNotFound, HTTPStatus: 404, Message: "HTTP 404 without a Nimbus error body"},
			details: []string{"without naming a Nimbus object", "state was left as it is", "`endpoint`"},
		},
		{
			name: "tenant not found",
			err: fmt.Errorf("wrapped: %w", &client.Error{Code: api.CodeNotFound, HTTPStatus: 404, Message: `tenant "ghost" not found on this server`,
				Details: &api.ErrorDetails{Kind: "tenant", Name: "ghost"}}),
			summary: []string{`tenant "ghost" ` + SummaryTenantMissing},
			details: []string{`has no tenant "ghost"`, "state was left as it is", "tenant_id", "NIMBUS_TENANT_ID", "NIMBUS_ENDPOINT", "GET /v1/tenants"},
		},
		{
			name: "tenant not found with the visible tenants",
			err: &client.TenantNotFoundError{Tenant: "ghost", Endpoint: "http://127.0.0.1:1", Visible: []string{"acc", "blue"},
				Err: &client.Error{Code: api.CodeNotFound, HTTPStatus: 404, Details: &api.ErrorDetails{Kind: "tenant", Name: "ghost"}}},
			summary: []string{`tenant "ghost" ` + SummaryTenantMissing},
			details: []string{`server at http://127.0.0.1:1 has no tenant "ghost"`, "Tenants this credential can use on the server: acc, blue."},
		},
		{
			name:    "malformed endpoint",
			err:     &client.ConfigError{Setting: client.SettingEndpoint, Invalid: true, Source: "environment variable NIMBUS_ENDPOINT", Message: "bad"},
			summary: []string{"invalid " + SummaryConfig},
			details: []string{"malformed", "http://host:port", "environment variable NIMBUS_ENDPOINT"},
		},
		{
			name:    "already exists",
			err:     &client.Error{Code: api.CodeAlreadyExists, HTTPStatus: 409},
			details: []string{"import"},
		},
		{
			name: "invalid with field violations",
			err: &client.Error{Code: api.CodeInvalid, HTTPStatus: 400, Details: &api.ErrorDetails{
				FieldViolations: []api.FieldViolation{{Field: "backend.endpoint.url", Description: "must be http"}}}},
			details: []string{"backend.endpoint.url", "must be http"},
		},
		{
			name:    "missing endpoint",
			err:     &client.ConfigError{Setting: client.SettingEndpoint, Message: "no endpoint"},
			summary: []string{"incomplete " + SummaryConfig},
			details: []string{"`endpoint`", "NIMBUS_ENDPOINT"},
		},
		{
			name:    "missing credential",
			err:     &client.ConfigError{Setting: client.SettingCredential, Message: "no credential"},
			details: []string{"`token`", "NIMBUS_TOKEN", "credentials_file"},
		},
		{
			name: "wait timeout",
			err: &client.WaitError{Kind: "service", Name: "web", Until: "healthy", Timeout: 2 * time.Second,
				LastState: "running", LastStatus: "state running, readiness ready, health unhealthy", Err: context.DeadlineExceeded},
			summary: []string{SummaryWait},
			details: []string{"did not become \"healthy\" within 2s", "timeouts", "Last observed status: state running, readiness ready, health unhealthy"},
		},
		{
			name: "wait failed",
			err: &client.WaitError{Kind: "service", Name: "web", Until: "ready", Failed: true,
				LastState: "failed", LastMessage: "image pull failed", LastStatus: "state failed"},
			summary: []string{"the service failed"},
			details: []string{"Server message: image pull failed", "Last observed status: state failed"},
		},
		{
			name:    "plain error",
			err:     errors.New("boom"),
			details: []string{"boom"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := FromError("Could not update service \"web\"", tc.err)
			if d.Severity() != diag.SeverityError {
				t.Fatalf("severity %v", d.Severity())
			}
			for _, want := range tc.summary {
				if !strings.Contains(d.Summary(), want) {
					t.Errorf("summary %q lacks %q", d.Summary(), want)
				}
			}
			for _, want := range tc.details {
				if !strings.Contains(d.Detail(), want) {
					t.Errorf("detail lacks %q:\n%s", want, d.Detail())
				}
			}
		})
	}
}

// TestNotFoundAdvice: only a missing object gets the "deleted outside
// Terraform" advice; a missing tenant never does.
func TestNotFoundAdvice(t *testing.T) {
	tenant := &client.Error{Code: api.CodeNotFound, HTTPStatus: 404, Details: &api.ErrorDetails{Kind: "tenant", Name: "ghost"}}
	d := FromError("Could not read service \"web\"", tenant)
	if strings.Contains(d.Detail(), "deleted outside Terraform") || strings.Contains(d.Detail(), "re-creation") {
		t.Errorf("a missing tenant is reported as a missing object:\n%s", d.Detail())
	}
	if client.IsNotFound(tenant) {
		t.Error("IsNotFound is true for a missing tenant")
	}
}

// TestWaitMessageOnce: the server's status message appears once in the
// whole diagnostic (summary and detail).
func TestWaitMessageOnce(t *testing.T) {
	const msg = "simulated container runtime: image failed to start (exit code 1)"
	for _, we := range []*client.WaitError{
		{Kind: "service", Name: "web", Until: "ready", Failed: true, LastState: "failed", LastMessage: msg,
			LastStatus: "state failed, readiness notReady, health unknown, observedGeneration 1 of generation 1"},
		{Kind: "sandbox", Name: "sbx-1", Until: "running", Timeout: time.Second, LastState: "starting", LastMessage: msg,
			LastStatus: "state starting", Err: context.DeadlineExceeded},
	} {
		d := FromError("Service \"web\" was created but did not become ready", fmt.Errorf("wrapped: %w", we))
		if n := strings.Count(d.Summary()+"\n"+d.Detail(), msg); n != 1 {
			t.Errorf("%s: the server message appears %d times:\n%s\n%s", we.Kind, n, d.Summary(), d.Detail())
		}
	}
}

func TestAppendNil(t *testing.T) {
	var diags diag.Diagnostics
	Append(&diags, "x", nil)
	if diags.HasError() {
		t.Fatal("nil error added a diagnostic")
	}
}

// Secrets in a wrapped error are the caller's problem, but the mapper must
// not add any: nothing here reads credential values.
func TestNoRetryAdvice(t *testing.T) {
	d := FromError("x", &client.Error{Code: api.CodePreconditionFailed})
	if strings.Contains(strings.ToLower(d.Detail()), "retrying") {
		t.Errorf("precondition advice must not suggest retrying blindly: %s", d.Detail())
	}
}

// TestEveryCodeHasAdvice: each error code of the API catalogue gets advice
// (what to do next) before the underlying error.
func TestEveryCodeHasAdvice(t *testing.T) {
	for _, code := range []string{api.CodeInvalid, api.CodeTooLarge, api.CodeUnsupportedMedia, api.CodeMethodNotAllowed,
		api.CodeUnauthenticated, api.CodePermissionDenied, api.CodeNotFound, api.CodeAlreadyExists, api.CodeConflict,
		api.CodePreconditionFailed, api.CodePreconditionRequired, api.CodeRateLimited, api.CodeUnavailable, api.CodeInternal} {
		e := &client.Error{Code: code, HTTPStatus: 400, Message: "server says no"}
		d := Detail(e)
		advice, _, ok := strings.Cut(d, "\n\n"+e.Error())
		if !ok || strings.TrimSpace(advice) == "" {
			t.Errorf("%s: no advice before the error:\n%s", code, d)
		}
	}
}

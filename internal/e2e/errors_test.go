package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/server"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestErrorCatalog triggers every error code of the catalog that a client can
// cause and checks the typed error: code, HTTP status, message, request id
// and details.
func TestErrorCatalog(t *testing.T) {
	srv := testserver.Start(t, testserver.WithTenants("acc", "other"),
		testserver.WithCredential(server.CredentialToken, "only-other-token", "other"))
	c := testfixtures.ServerClient(t, srv, func(c *client.Config) { c.MaxRetries = -1 })
	ctx := testfixtures.Context(t, time.Minute)

	// request.invalid with field violations (bad name, unknown provider).
	_, err := c.Services.Create(ctx, testfixtures.BuiltInService("Bad_Name", "teleporter", nil))
	e := wantCode(t, err, api.CodeInvalid)
	fields := map[string]bool{}
	for _, v := range e.FieldViolations() {
		fields[v.Field] = true
	}
	if !fields["name"] || !fields["backend.provider"] {
		t.Fatalf("field violations %+v", e.FieldViolations())
	}
	// request.invalid: malformed JSON and unknown fields (raw).
	for _, body := range []string{`{"name":`, `{"name":"x","backend":{"kind":"builtIn","provider":"browser"},"bogus":1}`} {
		st, b := raw(t, srv, http.MethodPost, "/v1/tenants/acc/services", []byte(body))
		if st != 400 || !strings.Contains(string(b), api.CodeInvalid) {
			t.Fatalf("%s → %d %s", body, st, b)
		}
	}
	// request.invalid: bad page token, limit out of range.
	_, err = c.Services.List(ctx, client.ListServicesOptions{PageToken: "not-a-token"})
	wantCode(t, err, api.CodeInvalid)
	_, err = c.Services.List(ctx, client.ListServicesOptions{Limit: 1001})
	wantCode(t, err, api.CodeInvalid)

	// request.too_large: a body over 1 MiB.
	big := standaloneSandbox(nil)
	big.Spec.Process.Argv.Values = []string{strings.Repeat("x", api.MaxBodyBytes+10)}
	_, err = c.Sandboxes.Create(ctx, big)
	wantCode(t, err, api.CodeTooLarge)

	// request.unsupported_media_type and request.method_not_allowed (the
	// client never sends these; raw HTTP).
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/tenants/acc/services", strings.NewReader("name=x"))
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Fatalf("form body: %d", resp.StatusCode)
	}
	st, b := raw(t, srv, http.MethodDelete, "/v1/tenants/acc/sessions", nil)
	var er api.ErrorResponse
	if st != 405 || json.Unmarshal(b, &er) != nil || er.Error.Code != api.CodeMethodNotAllowed || er.Error.RequestID == "" {
		t.Fatalf("DELETE sessions: %d %s", st, b)
	}

	// auth.unauthenticated: wrong token, and an API key nobody issued.
	bad := testfixtures.ServerClient(t, srv, func(c *client.Config) { c.Token = "wrong-token" })
	_, err = bad.Services.List(ctx, client.ListServicesOptions{})
	wantCode(t, err, api.CodeUnauthenticated)
	if strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("error echoes the credential: %v", err)
	}
	badKey := testfixtures.ServerClient(t, srv, func(c *client.Config) { c.Token, c.APIKey = "", "wrong-key" })
	_, err = badKey.Services.List(ctx, client.ListServicesOptions{})
	wantCode(t, err, api.CodeUnauthenticated)
	// The API key credential works.
	key := testfixtures.ServerClient(t, srv, func(c *client.Config) { c.Token, c.APIKey = "", srv.APIKey })
	if _, err := key.Services.List(ctx, client.ListServicesOptions{}); err != nil {
		t.Fatalf("api key: %v", err)
	}

	// auth.permission_denied: a credential bound to "other" used in "acc".
	limited := testfixtures.ServerClient(t, srv, func(c *client.Config) { c.Token = "only-other-token" })
	_, err = limited.Services.List(ctx, client.ListServicesOptions{})
	wantCode(t, err, api.CodePermissionDenied)
	if _, err := limited.Services.List(ctx, client.ListServicesOptions{}, client.InTenant("other")); err != nil {
		t.Fatalf("limited credential in its own tenant: %v", err)
	}

	// resource.not_found for each kind.
	_, err = c.Services.Get(ctx, "missing")
	wantCode(t, err, api.CodeNotFound)
	_, err = c.Sandboxes.Get(ctx, "sbx-missing")
	wantCode(t, err, api.CodeNotFound)
	_, err = c.Sessions.Get(ctx, "ses-missing")
	wantCode(t, err, api.CodeNotFound)

	// resource.already_exists.
	svc := mustCreate(t, c, testfixtures.BuiltInService("dup", api.ProviderBrowser, nil))
	_, err = c.Services.Create(ctx, testfixtures.BuiltInService("dup", api.ProviderBrowser, nil))
	wantCode(t, err, api.CodeAlreadyExists)

	// op.precondition_required / op.precondition_failed (names the current generation).
	_, err = c.Services.Update(ctx, "dup", api.UpdateServiceRequest{Labels: labels(map[string]string{"a": "b"})})
	wantCode(t, err, api.CodePreconditionRequired)
	err = c.Services.Delete(ctx, "dup", client.DeleteOptions{})
	wantCode(t, err, api.CodePreconditionRequired)
	_, err = c.Services.Update(ctx, "dup", api.UpdateServiceRequest{Labels: labels(map[string]string{"a": "b"}), IfMatchGeneration: gen(svc.Metadata.Generation + 5)})
	e = wantCode(t, err, api.CodePreconditionFailed)
	if e.Details == nil || e.Details.CurrentGeneration != svc.Metadata.Generation {
		t.Fatalf("precondition_failed details: %+v", e.Details)
	}

	// op.conflict: deleting a running service without force; a session on a stopped target.
	mustStart(t, c, "dup")
	err = c.Services.Delete(ctx, "dup", client.DeleteOptions{IfMatchGeneration: svc.Metadata.Generation})
	e = wantCode(t, err, api.CodeConflict)
	if e.Details == nil || e.Details.LifecycleState != api.ServiceRunning {
		t.Fatalf("conflict details: %+v", e.Details)
	}
	mustCreate(t, c, testfixtures.BuiltInService("idle", api.ProviderBrowser, nil))
	_, err = c.Sessions.Open(ctx, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "idle"}}, Channels: []string{api.ChannelCDP}})
	wantCode(t, err, api.CodeConflict)

	// server.unavailable with Retry-After while draining.
	srv.Server.Drain()
	_, err = c.Services.Get(ctx, "dup")
	e = wantCode(t, err, api.CodeUnavailable)
	if e.RetryAfter <= 0 {
		t.Fatalf("unavailable without Retry-After: %+v", e)
	}
}

func TestRateLimited(t *testing.T) {
	srv := testserver.Start(t, func(o *testserver.Options) { o.RateLimit = 1 })
	c := testfixtures.ServerClient(t, srv, func(c *client.Config) { c.MaxRetries = -1 })
	ctx := testfixtures.Context(t, time.Minute)
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		_, err = c.Services.List(ctx, client.ListServicesOptions{})
	}
	e := wantCode(t, err, api.CodeRateLimited)
	if e.RetryAfter < time.Second {
		t.Fatalf("Retry-After %s", e.RetryAfter)
	}
	// With retries on (default), the client honours Retry-After and succeeds.
	patient := testfixtures.ServerClient(t, srv)
	if _, err := patient.Services.List(ctx, client.ListServicesOptions{}); err != nil {
		t.Fatalf("retrying client: %v", err)
	}
}

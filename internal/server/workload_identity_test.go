package server_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/command"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif/wiftest"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// wifServer runs a server with tenants acc and other that trusts a
// loopback issuer: apply-phase tokens of workspace "web" read and write in
// acc, plan-phase tokens only read.
func wifServer(t *testing.T, logs *syncBuffer) (*testserver.Server, *wiftest.Issuer) {
	t.Helper()
	iss := wiftest.NewIssuer(t)
	cfg := wif.IssuerConfig{Name: "hcp", Issuer: iss.URL, Audiences: []string{"nimbus"}, JWKSURL: iss.JWKSURL, Rules: []wif.Rule{
		{Name: "web-apply", Subject: "organization:acme:project:*:workspace:web:run_phase:apply", Tenants: []string{"acc"}, Access: wif.AccessReadWrite},
		{Name: "web-plan", Subject: "organization:acme:project:*:workspace:web:run_phase:plan", Tenants: []string{"acc"}},
	}}
	srv := testserver.Start(t, testserver.WithTenants("acc", "other"), testserver.WithTrustedIssuers(cfg), func(o *testserver.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	return srv, iss
}

func bearer(tok string) reqOpt { return withHeader("Authorization", "Bearer "+tok) }

func TestWorkloadIdentity_readWriteAndReadOnlyGrants(t *testing.T) {
	logs := &syncBuffer{}
	srv, iss := wifServer(t, logs)
	applyTok := iss.Token(t, wiftest.HCPClaims("acme", "Default Project", "web", "apply"))
	planTok := iss.Token(t, wiftest.HCPClaims("acme", "Default Project", "web", "plan"))

	// Apply-phase token: changes in its tenant, nothing in another.
	expect(t, do(t, srv, "POST", tp+"/services", builtInService("svc", nil), bearer(applyTok)), 201, "")
	expect(t, do(t, srv, "POST", tp+"/services/svc/start", nil, bearer(applyTok)), 200, "")
	expect(t, do(t, srv, "GET", "/v1/tenants/other/services", nil, bearer(applyTok)), 403, api.CodePermissionDenied)
	var tl api.TenantList
	do(t, srv, "GET", "/v1/tenants", nil, bearer(planTok)).into(t, &tl)
	if len(tl.Items) != 1 || tl.Items[0].ID != "acc" {
		t.Fatalf("tenants of the plan token: %+v", tl)
	}
	svc := waitService(t, srv, "svc", stateIs(api.ServiceRunning))

	// Plan-phase token: reads, long-polls, opens and closes sessions ...
	expect(t, do(t, srv, "GET", tp+"/services/svc", nil, bearer(planTok)), 200, "")
	expect(t, do(t, srv, "GET", tp+"/services", nil, bearer(planTok)), 200, "")
	expect(t, do(t, srv, "GET", tp+"/services/svc?changedSince="+svc.Metadata.ResourceVersion+"&waitMs=1", nil, bearer(planTok)), 200, "")
	ses := decoded[api.Session](t, do(t, srv, "POST", tp+"/sessions", api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "svc"}}, Channels: []string{"stdio"}}, bearer(planTok)), 201)
	expect(t, do(t, srv, "POST", tp+"/sessions/"+ses.Metadata.ID+"/close", map[string]string{"reason": "plan done"}, bearer(planTok)), 200, "")

	// ... and is refused every change, naming the rule.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", tp + "/services", builtInService("svc2", nil)},
		{"PATCH", tp + "/services/svc", map[string]any{"labels": map[string]string{"a": "b"}, "ifMatchGeneration": 1}},
		{"POST", tp + "/services/svc/stop", nil},
		{"POST", tp + "/services/svc/restart", nil},
		{"DELETE", tp + "/services/svc?ifMatchGeneration=1&force=true", nil},
		{"POST", tp + "/sandboxes", standaloneSandbox("registry.example/x:1")},
	} {
		e := expect(t, do(t, srv, c.method, c.path, c.body, bearer(planTok)), 403, api.CodePermissionDenied)
		if e.Details == nil || e.Details.Reason != api.ReasonReadOnly || !strings.Contains(e.Message, `rule "web-plan"`) || !strings.Contains(e.Message, "read-only") {
			t.Fatalf("%s %s: %+v", c.method, c.path, e)
		}
	}
	if got := getService(t, srv, "svc"); got.Metadata.Generation != 1 || got.Status.LifecycleState != api.ServiceRunning {
		t.Fatalf("a refused change changed the service: %+v", got)
	}

	out := logs.String()
	for _, tok := range []string{applyTok, planTok} {
		sig := tok[strings.LastIndex(tok, ".")+1:]
		if strings.Contains(out, sig) {
			t.Fatal("a token was logged")
		}
	}
	for _, want := range []string{`issuer=hcp`, `rule=web-plan`, `subject="organization:acme:project:Default Project:workspace:web:run_phase:plan"`, `credential="hcp/web-apply (organization:acme`} {
		if !strings.Contains(out, want) {
			t.Fatalf("the log lacks %s:\n%s", want, out)
		}
	}
}

func TestWorkloadIdentity_refusedTokens(t *testing.T) {
	logs := &syncBuffer{}
	srv, iss := wifServer(t, logs)
	now := time.Now()
	web := wiftest.HCPClaims("acme", "p", "web", "apply")
	with := func(extra map[string]any) map[string]any {
		out := wiftest.HCPClaims("acme", "p", "web", "apply")
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	for _, c := range []struct {
		name, token, code, reason, msg string
	}{
		{"expired", iss.Token(t, with(map[string]any{"exp": now.Add(-5 * time.Minute).Unix(), "iat": now.Add(-time.Hour).Unix(), "nbf": now.Add(-time.Hour).Unix()})), api.CodeUnauthenticated, api.ReasonTokenExpired, "expired at"},
		{"wrong audience", iss.Token(t, with(map[string]any{"aud": "vault"})), api.CodeUnauthenticated, api.ReasonWrongAudience, "audience"},
		{"unknown issuer", iss.Token(t, with(map[string]any{"iss": "https://issuer.invalid"})), api.CodeUnauthenticated, api.ReasonUnknownIssuer, `"https://issuer.invalid" is not trusted`},
		{"bad signature", iss.Sign(t, wiftest.NewKey(t, "rsa-1", "RS256"), web), api.CodeUnauthenticated, api.ReasonBadSignature, "signature"},
		{"alg none", wiftest.Raw(t, map[string]any{"alg": "none"}, with(iss.Claims()), func([]byte) []byte { return nil }), api.CodeUnauthenticated, api.ReasonUnsupportedAlgorithm, `"none"`},
		{"no rule", iss.Token(t, wiftest.HCPClaims("acme", "p", "db", "apply")), api.CodePermissionDenied, api.ReasonNoMatchingRule, "no rule"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := expect(t, do(t, srv, "GET", tp+"/services", nil, bearer(c.token)), api.HTTPStatus(c.code), c.code)
			if e.Details == nil || e.Details.Reason != c.reason || !strings.Contains(e.Message, c.msg) {
				t.Fatalf("%+v, want reason %s and %q in the message", e, c.reason, c.msg)
			}
			for _, part := range strings.Split(c.token, ".") {
				if len(part) > 8 && strings.Contains(e.Message, part) {
					t.Fatal("the error echoes the token")
				}
			}
		})
	}

	// Static credentials keep working beside trusted issuers.
	expect(t, do(t, srv, "GET", tp+"/services", nil), 200, "")
	expect(t, do(t, srv, "GET", tp+"/services", nil, noAuth(), withHeader(api.HeaderAPIKey, srv.APIKey)), 200, "")
	e := expect(t, do(t, srv, "GET", tp+"/services", nil, bearer("not-a-known-token")), 401, api.CodeUnauthenticated)
	if e.Message != "the bearer token is not valid for this server" {
		t.Fatalf("a non-JWT unknown token: %+v", e)
	}
	if !strings.Contains(logs.String(), "workload-identity token refused") || !strings.Contains(logs.String(), "reason=token_expired") {
		t.Fatalf("refusals are not logged with their reason:\n%s", logs.String())
	}
}

func TestMainTrustedIssuersConfig(t *testing.T) {
	iss := wiftest.NewIssuer(t)
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jwks := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwks, iss.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	// The example shape, with a local jwksFile and the test issuer.
	good := map[string]any{
		"tenants": []string{"prod", "sandbox"},
		"trustedIssuers": []any{map[string]any{
			"name": "hcp-terraform", "issuer": iss.URL, "audiences": []string{"nimbus"}, "jwksFile": jwks,
			"rules": []any{
				map[string]any{"subject": "organization:acme:project:*:workspace:prod-*:run_phase:apply", "tenants": []string{"prod"}, "access": "readWrite"},
				map[string]any{"subject": "organization:acme:project:*:workspace:prod-*:run_phase:plan", "tenants": []string{"prod"}, "access": "read"},
				map[string]any{"claims": map[string]string{"terraform_organization_name": "acme"}, "tenants": []string{"sandbox"}, "access": "readWrite"},
			},
		}},
	}
	_, logs, stop := runMain(t, "--config", write("good.json", good), "--in-memory", "--listen", "127.0.0.1:0")
	endpoint := waitLog(t, logs, endpointRe)[1]
	tok := iss.Token(t, wiftest.HCPClaims("acme", "p", "prod-web", "plan"))
	if st, body := get(t, endpoint+"/v1/tenants/prod/services", "Authorization", "Bearer "+tok); st != 200 {
		t.Fatalf("plan token in prod: %d %s", st, body)
	}
	if st, _ := get(t, endpoint+"/v1/tenants/sandbox/services", "Authorization", "Bearer "+tok); st != 403 {
		t.Fatalf("plan token of prod-web in sandbox (first match wins): %d", st)
	}
	if rc := stop(); rc != 0 {
		t.Fatalf("exit %d:\n%s", rc, logs.String())
	}

	issuer := func(mod func(m map[string]any)) map[string]any {
		m := map[string]any{"name": "hcp", "issuer": "https://app.terraform.io", "audiences": []string{"nimbus"},
			"rules": []any{map[string]any{"subject": "organization:acme:*", "tenants": []string{"prod"}}}}
		mod(m)
		return map[string]any{"tenants": []string{"prod"}, "trustedIssuers": []any{m}}
	}
	for _, c := range []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"unknown issuer field", issuer(func(m map[string]any) { m["jwks"] = "x" }), `unknown field "jwks"`},
		{"unknown rule field", issuer(func(m map[string]any) {
			m["rules"] = []any{map[string]any{"sub": "x", "tenants": []string{"prod"}}}
		}), `unknown field "sub"`},
		{"rule tenant missing", issuer(func(m map[string]any) {
			m["rules"] = []any{map[string]any{"subject": "x", "tenants": []string{"staging"}}}
		}), `tenant "staging" does not exist`},
		{"bad access", issuer(func(m map[string]any) {
			m["rules"] = []any{map[string]any{"subject": "x", "tenants": []string{"prod"}, "access": "admin"}}
		}), `"access" "admin"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb syncBuffer
			code := command.Main(t.Context(), []string{"--in-memory", "--listen", "127.0.0.1:0", "--config", write(c.name+".json", c.cfg)}, &out, &errb)
			if code != 1 || !strings.Contains(errb.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errb.String(), c.want)
			}
		})
	}
}

package wif_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif/wiftest"
)

var testTenants = map[string]bool{"prod": true, "sandbox": true, "dev": true}

func tenantExists(t string) bool { return testTenants[t] }

// hcpRules are the rules of the example configuration.
func hcpRules() []wif.Rule {
	return []wif.Rule{
		{Name: "prod-apply", Subject: "organization:acme:project:*:workspace:prod-*:run_phase:apply", Tenants: []string{"prod"}, Access: wif.AccessReadWrite},
		{Name: "prod-plan", Subject: "organization:acme:project:*:workspace:prod-*:run_phase:plan", Tenants: []string{"prod"}, Access: wif.AccessRead},
		{Claims: map[string]string{"terraform_organization_name": "acme"}, Tenants: []string{"sandbox"}, Access: wif.AccessReadWrite},
	}
}

type fixture struct {
	iss *wiftest.Issuer
	v   *wif.Verifier
	now time.Time
}

// newFixture verifies tokens of a loopback issuer through its jwksUrl on a
// fixed clock; mod adjusts the issuer config.
func newFixture(t *testing.T, mod ...func(*wif.IssuerConfig)) *fixture {
	t.Helper()
	f := &fixture{iss: wiftest.NewIssuer(t), now: time.Now().Truncate(time.Second)}
	f.iss.Now = func() time.Time { return f.now }
	cfg := wif.IssuerConfig{Name: "test-issuer", Issuer: f.iss.URL, Audiences: []string{"other", wiftest.Audience}, JWKSURL: f.iss.JWKSURL, Rules: hcpRules()}
	for _, m := range mod {
		m(&cfg)
	}
	v, err := wif.New([]wif.IssuerConfig{cfg}, wif.Options{TenantExists: tenantExists, Now: func() time.Time { return f.now },
		RefreshInterval: time.Nanosecond})
	if err != nil {
		t.Fatalf("wif.New: %v", err)
	}
	f.v = v
	return f
}

func apply() map[string]any { return wiftest.HCPClaims("acme", "Default Project", "prod-web", "apply") }

// refused asserts that token is refused with reason, that the error never
// contains the token or its signature, and returns the error.
func refused(t *testing.T, v *wif.Verifier, token, reason string, denied bool) *wif.Error {
	t.Helper()
	g, err := v.Verify(t.Context(), token)
	if err == nil {
		t.Fatalf("token accepted (grant %+v), want refused with %s", g, reason)
	}
	var we *wif.Error
	if !errors.As(err, &we) {
		t.Fatalf("error %T %v, want *wif.Error", err, err)
	}
	if we.Reason != reason || we.Denied != denied {
		t.Fatalf("reason %q denied %v (%s), want %q denied %v", we.Reason, we.Denied, we.Message, reason, denied)
	}
	parts := strings.Split(token, ".")
	for _, p := range parts {
		if len(p) > 8 && strings.Contains(we.Message, p) {
			t.Fatalf("error message echoes the token: %s", we.Message)
		}
	}
	return we
}

func TestVerify_valid(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"RS256", f.iss.Sign(t, f.iss.RSA, apply())},
		{"ES256", f.iss.Sign(t, f.iss.EC, apply())},
		{"audience list", f.iss.Token(t, merge(apply(), map[string]any{"aud": []string{"x", "nimbus"}}))},
		{"expired within the clock skew", f.iss.Token(t, merge(apply(), map[string]any{"exp": f.now.Add(-30 * time.Second).Unix()}))},
		{"nbf within the clock skew", f.iss.Token(t, merge(apply(), map[string]any{"nbf": f.now.Add(30 * time.Second).Unix()}))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := f.v.Verify(t.Context(), tc.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if g.Issuer != "test-issuer" || g.Rule != "prod-apply" || g.ReadOnly() || len(g.Tenants) != 1 || g.Tenants[0] != "prod" ||
				g.Subject != "organization:acme:project:Default Project:workspace:prod-web:run_phase:apply" {
				t.Fatalf("grant %+v", g)
			}
		})
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestVerify_refused(t *testing.T) {
	f := newFixture(t)
	now := f.now
	valid := f.iss.Token(t, apply())
	parts := strings.Split(valid, ".")

	// A payload changed after signing: the subject of a plan token turned
	// into an apply token.
	var claims map[string]any
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = "organization:acme:project:p:workspace:prod-x:run_phase:apply"
	nb, _ := json.Marshal(claims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(nb) + "." + parts[2]

	// HS256 keyed with the issuer's public key (PEM and JWK forms): the
	// classic algorithm-confusion forgery.
	der, err := x509.MarshalPKIXPublicKey(f.iss.RSA.Private.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwk, _ := json.Marshal(f.iss.RSA.Public())
	hs := func(secret []byte) func([]byte) []byte {
		return func(in []byte) []byte { m := hmac.New(sha256.New, secret); m.Write(in); return m.Sum(nil) }
	}
	full := merge(f.iss.Claims(), apply())

	other := wiftest.NewKey(t, "rsa-1", jose.RS256) // same kid as the published key, other key
	for _, tc := range []struct {
		name, token, reason string
		denied              bool
	}{
		{"expired", f.iss.Token(t, merge(apply(), map[string]any{"exp": now.Add(-2 * time.Minute).Unix(), "iat": now.Add(-time.Hour).Unix(), "nbf": now.Add(-time.Hour).Unix()})), api.ReasonTokenExpired, false},
		{"no exp", f.iss.Token(t, merge(apply(), map[string]any{"exp": nil})), api.ReasonTokenMalformed, false},
		{"not yet valid (nbf far ahead)", f.iss.Token(t, merge(apply(), map[string]any{"nbf": now.Add(10 * time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()})), api.ReasonTokenNotYetValid, false},
		{"not yet valid (nbf beyond skew)", f.iss.Token(t, merge(apply(), map[string]any{"nbf": now.Add(3 * time.Minute).Unix()})), api.ReasonTokenNotYetValid, false},
		{"issued in the future", f.iss.Token(t, merge(apply(), map[string]any{"iat": now.Add(10 * time.Minute).Unix(), "nbf": nil})), api.ReasonTokenNotYetValid, false},
		{"wrong audience", f.iss.Token(t, merge(apply(), map[string]any{"aud": "someone-else"})), api.ReasonWrongAudience, false},
		{"no audience", f.iss.Token(t, merge(apply(), map[string]any{"aud": nil})), api.ReasonWrongAudience, false},
		{"wrong issuer", f.iss.Token(t, merge(apply(), map[string]any{"iss": "https://evil.example"})), api.ReasonUnknownIssuer, false},
		{"no issuer", f.iss.Token(t, merge(apply(), map[string]any{"iss": nil})), api.ReasonUnknownIssuer, false},
		{"alg none", wiftest.Raw(t, map[string]any{"alg": "none", "typ": "JWT"}, full, func([]byte) []byte { return nil }), api.ReasonUnsupportedAlgorithm, false},
		{"alg None", wiftest.Raw(t, map[string]any{"alg": "None"}, full, func([]byte) []byte { return nil }), api.ReasonUnsupportedAlgorithm, false},
		{"HS256 with the public key (PEM) as secret", wiftest.Raw(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, full, hs(pemKey)), api.ReasonUnsupportedAlgorithm, false},
		{"HS256 with the public key (JWK) as secret", wiftest.Raw(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, full, hs(jwk)), api.ReasonUnsupportedAlgorithm, false},
		{"unknown algorithm", wiftest.Raw(t, map[string]any{"alg": "XS512", "kid": "rsa-1"}, full, hs(pemKey)), api.ReasonUnsupportedAlgorithm, false},
		{"tampered payload", tampered, api.ReasonBadSignature, false},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(f.iss.Token(t, nil), ".")[2], api.ReasonBadSignature, false},
		{"other key with a published kid", f.iss.Sign(t, other, apply()), api.ReasonBadSignature, false},
		{"garbage", "not-a-jwt", api.ReasonTokenMalformed, false},
		{"three garbage parts", "a.b.c", api.ReasonTokenMalformed, false},
		{"no matching rule", f.iss.Token(t, wiftest.HCPClaims("globex", "p", "prod-web", "apply")), api.ReasonNoMatchingRule, true},
	} {
		t.Run(tc.name, func(t *testing.T) { refused(t, f.v, tc.token, tc.reason, tc.denied) })
	}
}

func TestVerify_unknownKidRefreshesThenRefuses(t *testing.T) {
	f := newFixture(t)
	if _, err := f.v.Verify(t.Context(), f.iss.Token(t, apply())); err != nil {
		t.Fatal(err)
	}
	if n := f.iss.Fetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1 (lazily, on the first token)", n)
	}
	// A cached key needs no fetch.
	if _, err := f.v.Verify(t.Context(), f.iss.Sign(t, f.iss.EC, apply())); err != nil {
		t.Fatal(err)
	}
	if n := f.iss.Fetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1 (cached)", n)
	}

	// An unpublished kid: refresh once, then refuse.
	f.now = f.now.Add(time.Second) // the fixture's clock stands still; refreshes need it to move
	stranger := wiftest.NewKey(t, "rsa-2", jose.RS256)
	we := refused(t, f.v, f.iss.Sign(t, stranger, apply()), api.ReasonUnknownKey, false)
	if n := f.iss.Fetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (one refresh for the unknown kid)", n)
	}
	if !strings.Contains(we.Message, `"rsa-2"`) {
		t.Fatalf("message does not name the kid: %s", we.Message)
	}

	// The issuer rotates to the new key: the next refresh picks it up.
	f.iss.Publish(stranger)
	f.now = f.now.Add(time.Second)
	if _, err := f.v.Verify(t.Context(), f.iss.Sign(t, stranger, apply())); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if n := f.iss.Fetches(); n != 3 {
		t.Fatalf("JWKS fetched %d times, want 3", n)
	}
}

func TestVerify_refreshIsRateLimited(t *testing.T) {
	iss := wiftest.NewIssuer(t)
	now := time.Now()
	v, err := wif.New([]wif.IssuerConfig{{Name: "i", Issuer: iss.URL, Audiences: []string{"nimbus"}, JWKSURL: iss.JWKSURL, Rules: hcpRules()}},
		wif.Options{TenantExists: tenantExists, Now: func() time.Time { return now }, RefreshInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	stranger := wiftest.NewKey(t, "rsa-9", jose.RS256)
	for range 5 {
		refused(t, v, iss.Sign(t, stranger, apply()), api.ReasonUnknownKey, false)
	}
	if n := iss.Fetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times for 5 unknown-kid tokens within the refresh interval, want 1", n)
	}
	now = now.Add(2 * time.Minute)
	refused(t, v, iss.Sign(t, stranger, apply()), api.ReasonUnknownKey, false)
	if n := iss.Fetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times after the interval, want 2", n)
	}
}

func TestVerify_discovery(t *testing.T) {
	iss := wiftest.NewIssuer(t)
	iss.SetDown(true)
	v, err := wif.New([]wif.IssuerConfig{{Name: "disco", Issuer: iss.URL, Audiences: []string{"nimbus"}, Rules: hcpRules()}},
		wif.Options{TenantExists: tenantExists, RefreshInterval: time.Nanosecond})
	if err != nil {
		t.Fatalf("an unreachable issuer must not fail New: %v", err)
	}
	we := refused(t, v, iss.Token(t, apply()), api.ReasonIssuerUnavailable, false)
	if !strings.Contains(we.Message, "discovery document") {
		t.Fatalf("message: %s", we.Message)
	}
	iss.SetDown(false)
	g, err := v.Verify(t.Context(), iss.Token(t, apply()))
	if err != nil {
		t.Fatalf("Verify after the issuer came back: %v", err)
	}
	if g.Rule != "prod-apply" {
		t.Fatalf("grant %+v", g)
	}
}

func TestVerify_unreachableJWKSURL(t *testing.T) {
	iss := wiftest.NewIssuer(t)
	v, err := wif.New([]wif.IssuerConfig{{Name: "gone", Issuer: iss.URL, Audiences: []string{"nimbus"}, JWKSURL: "http://127.0.0.1:1/jwks", Rules: hcpRules()}},
		wif.Options{TenantExists: tenantExists})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	refused(t, v, iss.Token(t, apply()), api.ReasonIssuerUnavailable, false)
}

func TestVerify_jwksFile(t *testing.T) {
	iss := wiftest.NewIssuer(t)
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, iss.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := wif.New([]wif.IssuerConfig{{Name: "file", Issuer: iss.URL, Audiences: []string{"nimbus"}, JWKSFile: path, Rules: hcpRules()}},
		wif.Options{TenantExists: tenantExists, RefreshInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), iss.Token(t, apply())); err != nil {
		t.Fatal(err)
	}
	// A new key appears in the file: the unknown kid re-reads it.
	k := wiftest.NewKey(t, "ec-2", jose.ES256)
	refused(t, v, iss.Sign(t, k, apply()), api.ReasonUnknownKey, false)
	iss.Publish(k)
	if err := os.WriteFile(path, iss.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), iss.Sign(t, k, apply())); err != nil {
		t.Fatalf("after the file gained the key: %v", err)
	}
	if iss.Fetches() != 0 {
		t.Fatal("a jwksFile issuer fetched over HTTP")
	}
}

func TestVerify_rules(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name     string
		claims   map[string]any
		rule     string
		readOnly bool
		tenants  string
	}{
		{"apply phase", apply(), "prod-apply", false, "prod"},
		{"plan phase", wiftest.HCPClaims("acme", "p", "prod-web", "plan"), "prod-plan", true, "prod"},
		{"glob matches an empty run", wiftest.HCPClaims("acme", "p", "prod-", "apply"), "prod-apply", false, "prod"},
		{"glob never crosses ':' (claims rule instead)", merge(apply(), map[string]any{"sub": "organization:acme:project:a:b:workspace:prod-web:run_phase:apply"}), "rule #3", false, "sandbox"},
		{"other workspace: the claims rule", wiftest.HCPClaims("acme", "p", "dev-web", "apply"), "rule #3", false, "sandbox"},
		{"first match wins", wiftest.HCPClaims("acme", "p", "prod-db", "plan"), "prod-plan", true, "prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := f.v.Verify(t.Context(), f.iss.Token(t, tc.claims))
			if err != nil {
				t.Fatal(err)
			}
			if g.Rule != tc.rule || g.ReadOnly() != tc.readOnly || strings.Join(g.Tenants, ",") != tc.tenants {
				t.Fatalf("grant %+v, want rule %q readOnly %v tenants %s", g, tc.rule, tc.readOnly, tc.tenants)
			}
		})
	}

	// Claims compare exactly; non-string scalars by their JSON text.
	g := newFixture(t, func(c *wif.IssuerConfig) {
		c.Rules = []wif.Rule{
			{Name: "exact", Claims: map[string]string{"terraform_workspace_name": "prod", "n": "42", "b": "true"}, Tenants: []string{"dev"}},
		}
	})
	if _, err := g.v.Verify(t.Context(), g.iss.Token(t, map[string]any{"sub": "x", "terraform_workspace_name": "prod", "n": 42, "b": true})); err != nil {
		t.Fatalf("exact claims: %v", err)
	}
	for _, c := range []map[string]any{
		{"terraform_workspace_name": "prod-web", "n": 42, "b": true},
		{"terraform_workspace_name": "PROD", "n": 42, "b": true},
		{"terraform_workspace_name": []string{"prod"}, "n": 42, "b": true},
		{"terraform_workspace_name": "prod", "n": 43, "b": true},
		{"n": 42, "b": true},
	} {
		refused(t, g.v, g.iss.Token(t, c), api.ReasonNoMatchingRule, true)
	}
	gr, err := g.v.Verify(t.Context(), g.iss.Token(t, map[string]any{"terraform_workspace_name": "prod", "n": 42, "b": true}))
	if err != nil || !gr.ReadOnly() {
		t.Fatalf("access defaults to read: %+v %v", gr, err)
	}
}

func TestNew_validation(t *testing.T) {
	base := func() wif.IssuerConfig {
		return wif.IssuerConfig{Name: "hcp", Issuer: "https://app.terraform.io", Audiences: []string{"nimbus"}, JWKSURL: "https://app.terraform.io/.well-known/jwks",
			Rules: []wif.Rule{{Subject: "organization:acme:*", Tenants: []string{"prod"}}}}
	}
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwks, []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mod  func(c *wif.IssuerConfig)
		want string
	}{
		{"no name", func(c *wif.IssuerConfig) { c.Name = "" }, `needs a "name"`},
		{"no issuer", func(c *wif.IssuerConfig) { c.Issuer = "" }, `"issuer" is required`},
		{"issuer not a URL", func(c *wif.IssuerConfig) { c.Issuer = "app.terraform.io" }, `must be an http(s) URL`},
		{"no audiences", func(c *wif.IssuerConfig) { c.Audiences = nil }, `"audiences" must list`},
		{"empty audience", func(c *wif.IssuerConfig) { c.Audiences = []string{""} }, `empty value`},
		{"file and url", func(c *wif.IssuerConfig) { c.JWKSFile = "/x" }, `at most one of "jwksFile" and "jwksUrl"`},
		{"bad jwksUrl", func(c *wif.IssuerConfig) { c.JWKSURL = "ftp://x/jwks" }, `"jwksUrl"`},
		{"missing jwksFile", func(c *wif.IssuerConfig) { c.JWKSURL, c.JWKSFile = "", filepath.Join(t.TempDir(), "none.json") }, `jwksFile`},
		{"jwksFile with only a symmetric key", func(c *wif.IssuerConfig) { c.JWKSURL, c.JWKSFile = "", jwks }, `no public signing key`},
		{"no rules", func(c *wif.IssuerConfig) { c.Rules = nil }, `"rules" must map`},
		{"rule without subject or claims", func(c *wif.IssuerConfig) { c.Rules[0].Subject = "" }, `set "subject", "claims" or both`},
		{"rule tenant does not exist", func(c *wif.IssuerConfig) { c.Rules[0].Tenants = []string{"prod", "staging"} }, `tenant "staging" does not exist`},
		{"rule tenant *", func(c *wif.IssuerConfig) { c.Rules[0].Tenants = []string{"*"} }, `tenant "*" does not exist`},
		{"rule without tenants", func(c *wif.IssuerConfig) { c.Rules[0].Tenants = nil }, `"tenants" must name`},
		{"bad access", func(c *wif.IssuerConfig) { c.Rules[0].Access = "write" }, `"access" "write"`},
		{"duplicate rule names", func(c *wif.IssuerConfig) {
			c.Rules[0].Name = "a"
			c.Rules = append(c.Rules, c.Rules[0])
		}, `two rules are named "a"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.mod(&c)
			_, err := wif.New([]wif.IssuerConfig{c}, wif.Options{TenantExists: tenantExists})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := wif.New([]wif.IssuerConfig{base(), base()}, wif.Options{TenantExists: tenantExists}); err == nil || !strings.Contains(err.Error(), "two trusted issuers") {
		t.Fatalf("duplicate names: %v", err)
	}
	b := base()
	b.Name = "other"
	if _, err := wif.New([]wif.IssuerConfig{base(), b}, wif.Options{TenantExists: tenantExists}); err == nil || !strings.Contains(err.Error(), "configured twice") {
		t.Fatalf("duplicate issuer: %v", err)
	}
	if _, err := wif.New([]wif.IssuerConfig{base()}, wif.Options{TenantExists: tenantExists}); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}

func TestLooksLikeJWT(t *testing.T) {
	iss := wiftest.NewIssuer(t)
	if !wif.LooksLikeJWT(iss.Token(t, nil)) {
		t.Fatal("a JWT does not look like one")
	}
	for _, s := range []string{"", "nimbus-test-token-0123456789abcdef", "a.b.c", "dev-0123", "x.y"} {
		if wif.LooksLikeJWT(s) {
			t.Fatalf("%q looks like a JWT", s)
		}
	}
}

// Package wif verifies workload-identity tokens: short-lived JWTs signed by
// a trusted OpenID Connect issuer (HCP Terraform, a CI system, a
// Kubernetes cluster), mapped by rules to tenants and an access level.
// Nothing secret is stored: the server only holds the issuers' public keys.
//
//	v, err := wif.New(issuers, wif.Options{TenantExists: exists})
//	grant, err := v.Verify(ctx, bearerToken) // err is a *wif.Error
//
// Verification uses github.com/coreos/go-oidc/v3 (issuer, expiry, not
// before, signature) over this package's key sets (a jwksFile, a jwksUrl or
// the issuer's discovery document, loaded on first use and refreshed when a
// token names an unknown key), plus the audience, nbf and iat checks with a
// small clock skew. Only asymmetric algorithms are accepted (RS*, PS*, ES*,
// EdDSA): "none", HMAC and anything unknown are refused before any key is
// looked at.
//
// The package is self-contained: it knows nothing about HTTP routes. The
// caller decides what a read-only grant (Grant.ReadOnly) may call.
package wif

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Defaults of Options.
const (
	DefaultClockSkew       = time.Minute
	DefaultRefreshInterval = 10 * time.Second
)

// Algorithms are the accepted signature algorithms.
var Algorithms = []string{
	string(jose.RS256), string(jose.RS384), string(jose.RS512),
	string(jose.PS256), string(jose.PS384), string(jose.PS512),
	string(jose.ES256), string(jose.ES384), string(jose.ES512),
	string(jose.EdDSA),
}

// Options configures New.
type Options struct {
	// TenantExists reports whether a tenant exists; every rule's tenants
	// must. Nil accepts none.
	TenantExists func(tenant string) bool
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// HTTPClient fetches discovery documents and JWKS (nil = a client with
	// a 10s timeout).
	HTTPClient *http.Client
	// ClockSkew is tolerated on exp, nbf and iat (0 = DefaultClockSkew).
	ClockSkew time.Duration
	// RefreshInterval is the least time between two loads of one issuer's
	// keys (0 = DefaultRefreshInterval).
	RefreshInterval time.Duration
}

// Grant is what a verified token may do.
type Grant struct {
	// Issuer is the trusted issuer's configured name; Subject the token's
	// "sub"; Rule the name of the rule that matched.
	Issuer, Subject, Rule string
	// Tenants the token may use.
	Tenants []string
	// Access is AccessRead or AccessReadWrite.
	Access string
	// Expiry is the token's "exp".
	Expiry time.Time
}

// ReadOnly reports whether the grant is AccessRead.
func (g *Grant) ReadOnly() bool { return g.Access != AccessReadWrite }

// Error is a refused token. Its message says why and never contains the
// token.
type Error struct {
	// Denied is true for a valid token that no rule grants anything
	// (auth.permission_denied); false for a token that is not valid
	// (auth.unauthenticated).
	Denied bool
	// Reason is one of the api.Reason* values.
	Reason string
	// Issuer (configured name) and Subject, when known, for logs.
	Issuer, Subject string
	Message         string
}

func (e *Error) Error() string { return e.Message }

func unauthenticated(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

type issuer struct {
	cfg      IssuerConfig
	rules    []rule
	keys     *keySet
	verifier *oidc.IDTokenVerifier
}

// Verifier verifies tokens of the trusted issuers. It is safe for
// concurrent use.
type Verifier struct {
	byIss map[string]*issuer
	now   func() time.Time
	skew  time.Duration
}

// New validates the issuers and builds a Verifier. A jwksFile is read now
// (a missing or invalid file is an error); a jwksUrl or discovery document
// is fetched when the first token of that issuer arrives, so an unreachable
// issuer never blocks startup.
func New(issuers []IssuerConfig, o Options) (*Verifier, error) {
	if o.TenantExists == nil {
		o.TenantExists = func(string) bool { return false }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.ClockSkew <= 0 {
		o.ClockSkew = DefaultClockSkew
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	algs := make([]jose.SignatureAlgorithm, len(Algorithms))
	for i, a := range Algorithms {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	v := &Verifier{byIss: map[string]*issuer{}, now: o.Now, skew: o.ClockSkew}
	names := map[string]bool{}
	for _, c := range issuers {
		rules, err := c.validate(o.TenantExists)
		if err != nil {
			return nil, err
		}
		if names[c.Name] {
			return nil, fmt.Errorf("two trusted issuers are named %q", c.Name)
		}
		names[c.Name] = true
		if _, dup := v.byIss[c.Issuer]; dup {
			return nil, fmt.Errorf("trusted issuer %q: issuer %q is configured twice; merge the rules into one entry", c.Name, c.Issuer)
		}
		ks := &keySet{issuer: c.Name, algs: algs, now: o.Now, minRefresh: o.RefreshInterval}
		switch {
		case c.JWKSFile != "":
			ks.source, ks.load = "jwksFile "+c.JWKSFile, fileLoader(c.JWKSFile)
			keys, err := ks.load(context.Background())
			if err != nil {
				return nil, fmt.Errorf("trusted issuer %q: jwksFile %s: %w", c.Name, c.JWKSFile, err)
			}
			ks.keys, ks.loadedAt = keys, o.Now()
		case c.JWKSURL != "":
			ks.source, ks.load = "jwksUrl "+c.JWKSURL, urlLoader(o.HTTPClient, c.JWKSURL)
		default:
			ks.source, ks.load = "the discovery document of "+c.Issuer, discoveryLoader(o.HTTPClient, c.Issuer)
		}
		skew := o.ClockSkew
		now := o.Now
		ov := oidc.NewVerifier(c.Issuer, ks, &oidc.Config{
			SkipClientIDCheck:    true, // several audiences: checked below
			SupportedSigningAlgs: Algorithms,
			Now:                  func() time.Time { return now().Add(-skew) },
		})
		v.byIss[c.Issuer] = &issuer{cfg: c, rules: rules, keys: ks, verifier: ov}
	}
	return v, nil
}

// LooksLikeJWT reports whether s has the shape of a compact JWS (three
// base64url parts whose first decodes to a JSON header naming an "alg").
// Static bearer tokens of other shapes never reach Verify.
func LooksLikeJWT(s string) bool {
	_, err := parseHeader(s)
	return err == nil
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

func parseHeader(s string) (header, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return header{}, errors.New("not three parts")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return header{}, err
	}
	var h header
	if err := json.Unmarshal(b, &h); err != nil {
		return header{}, err
	}
	if h.Alg == "" {
		return header{}, errors.New("no alg")
	}
	return h, nil
}

// unverifiedClaims are read before the signature is checked, only to pick
// the issuer and to explain a refusal; nothing is granted from them.
type unverifiedClaims struct {
	Iss string      `json:"iss"`
	Exp json.Number `json:"exp"`
	Nbf json.Number `json:"nbf"`
}

func numericTime(n json.Number) (time.Time, bool) {
	if n == "" {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}

// Verify checks token and maps it to a grant. Every failure is an *Error:
// Denied false (auth.unauthenticated) for a token that is malformed,
// signed with a refused algorithm, from an unknown issuer, badly signed,
// signed with an unknown key, expired, not yet valid or for another
// audience; Denied true (auth.permission_denied) for a valid token that no
// rule matches.
func (v *Verifier) Verify(ctx context.Context, token string) (*Grant, error) {
	h, err := parseHeader(token)
	if err != nil {
		return nil, unauthenticated(api.ReasonTokenMalformed, "the bearer token is not a valid workload-identity token (a signed JWT) nor a token this server knows")
	}
	if !slices.Contains(Algorithms, h.Alg) {
		return nil, unauthenticated(api.ReasonUnsupportedAlgorithm,
			"the workload-identity token is signed with algorithm %q, which this server refuses; accepted: %s", clip(h.Alg), strings.Join(Algorithms, ", "))
	}
	var uc unverifiedClaims
	if err := decodeSegment(token, &uc); err != nil {
		return nil, unauthenticated(api.ReasonTokenMalformed, "the workload-identity token's payload is not a JSON object of claims")
	}
	iss, ok := v.byIss[uc.Iss]
	if !ok {
		if uc.Iss == "" {
			return nil, unauthenticated(api.ReasonUnknownIssuer, "the workload-identity token has no \"iss\" claim")
		}
		return nil, unauthenticated(api.ReasonUnknownIssuer,
			"the workload-identity token's issuer %q is not trusted by this server (add it to \"trustedIssuers\" in the server's config file)", clip(uc.Iss))
	}
	name := iss.cfg.Name
	res := &sigResult{}
	idt, err := iss.verifier.Verify(context.WithValue(ctx, sigResultKey{}, res), token)
	now := v.now()
	if err != nil {
		var ee *oidc.TokenExpiredError
		switch {
		case res.err != nil:
			return nil, &Error{Reason: res.err.reason, Issuer: name, Message: res.err.msg}
		case errors.As(err, &ee):
			if _, has := numericTime(uc.Exp); !has {
				return nil, &Error{Reason: api.ReasonTokenMalformed, Issuer: name,
					Message: fmt.Sprintf("the workload-identity token of trusted issuer %q has no \"exp\" claim; tokens must expire", name)}
			}
			return nil, &Error{Reason: api.ReasonTokenExpired, Issuer: name, Message: fmt.Sprintf(
				"the workload-identity token of trusted issuer %q expired at %s (server time %s, %s clock skew allowed); use a fresh token",
				name, ee.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.skew)}
		}
		if nbf, has := numericTime(uc.Nbf); has && nbf.After(now.Add(v.skew)) {
			return nil, v.notYetValid(name, "nbf", nbf, now)
		}
		return nil, &Error{Reason: api.ReasonTokenMalformed, Issuer: name, Message: fmt.Sprintf(
			"the workload-identity token of trusted issuer %q is not valid: %s", name, strings.TrimPrefix(err.Error(), "oidc: "))}
	}
	if !slices.ContainsFunc(idt.Audience, func(a string) bool { return slices.Contains(iss.cfg.Audiences, a) }) {
		return nil, &Error{Reason: api.ReasonWrongAudience, Issuer: name, Subject: idt.Subject, Message: fmt.Sprintf(
			"the workload-identity token of trusted issuer %q is for audience %q, not one this server accepts (%q); request the token for one of those (HCP Terraform: TFC_WORKLOAD_IDENTITY_AUDIENCE)",
			name, idt.Audience, iss.cfg.Audiences)}
	}
	if nbf, has := numericTime(uc.Nbf); has && nbf.After(now.Add(v.skew)) {
		return nil, v.notYetValid(name, "nbf", nbf, now)
	}
	if !idt.IssuedAt.IsZero() && idt.IssuedAt.After(now.Add(v.skew)) {
		return nil, v.notYetValid(name, "iat", idt.IssuedAt, now)
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(rawClaims(idt)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, &Error{Reason: api.ReasonTokenMalformed, Issuer: name, Message: "the workload-identity token's claims are not a JSON object"}
	}
	for _, r := range iss.rules {
		if r.match(idt.Subject, claims) {
			return &Grant{Issuer: name, Subject: idt.Subject, Rule: r.name, Tenants: slices.Clone(r.tenants), Access: r.access, Expiry: idt.Expiry}, nil
		}
	}
	return nil, &Error{Denied: true, Reason: api.ReasonNoMatchingRule, Issuer: name, Subject: idt.Subject, Message: fmt.Sprintf(
		"the workload-identity token of trusted issuer %q (subject %q) is valid, but no rule of that issuer matches it; add a rule for this subject or its claims to the server's config",
		name, idt.Subject)}
}

func (v *Verifier) notYetValid(name, claim string, t, now time.Time) *Error {
	return &Error{Reason: api.ReasonTokenNotYetValid, Issuer: name, Message: fmt.Sprintf(
		"the workload-identity token of trusted issuer %q is not valid yet: %q is %s, server time is %s (%s clock skew allowed)",
		name, claim, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.skew)}
}

// rawClaims returns the verified payload (nil if unreadable).
func rawClaims(t *oidc.IDToken) []byte {
	var raw json.RawMessage
	if err := t.Claims(&raw); err != nil {
		return nil
	}
	return raw
}

// clip shortens an unverified, caller-chosen value quoted in a message.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// decodeSegment decodes the (unverified) payload of a compact JWS.
func decodeSegment(token string, v any) error {
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

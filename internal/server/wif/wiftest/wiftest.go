// Package wiftest is a test OpenID Connect issuer: locally generated keys,
// a JWKS and discovery document served over loopback HTTP (httptest, on
// 127.0.0.1), and helpers that mint tokens, including malformed ones.
//
//	iss := wiftest.NewIssuer(t)                      // publishes RSA key "rsa-1" and EC key "ec-1"
//	tok := iss.Token(t, wiftest.HCPClaims("acme", "default", "prod-web", "apply"))
//	cfg := wif.IssuerConfig{Name: "test", Issuer: iss.URL, Audiences: []string{"nimbus"}, JWKSURL: iss.JWKSURL, …}
package wiftest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Audience is the default "aud" of minted tokens.
const Audience = "nimbus"

// Key is a signing key.
type Key struct {
	ID      string
	Alg     jose.SignatureAlgorithm
	Private crypto.Signer
}

// Public returns the key's public JWK.
func (k Key) Public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"}
}

// Issuer is a test issuer. URL is both its "iss" and the base of its
// discovery document; JWKSURL serves its published keys.
type Issuer struct {
	URL     string
	JWKSURL string
	// RSA and EC are the keys published at start ("rsa-1" RS256, "ec-1" ES256).
	RSA, EC Key
	// Now is the clock of minted tokens (default time.Now).
	Now func() time.Time

	srv       *httptest.Server
	mu        sync.Mutex
	published []Key
	fetches   atomic.Int64
	down      atomic.Bool
}

// NewIssuer starts an issuer on 127.0.0.1; t.Cleanup stops it.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{Now: time.Now}
	i.RSA = NewKey(t, "rsa-1", jose.RS256)
	i.EC = NewKey(t, "ec-1", jose.ES256)
	i.published = []Key{i.RSA, i.EC}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		if i.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": i.URL, "jwks_uri": i.JWKSURL,
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		i.fetches.Add(1)
		if i.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(i.JWKS())
	})
	i.srv = httptest.NewServer(mux) // listens on 127.0.0.1 (or ::1): loopback only
	i.URL = i.srv.URL
	i.JWKSURL = i.srv.URL + "/jwks"
	t.Cleanup(i.srv.Close)
	return i
}

// NewKey generates a key (RSA 2048 for RS*/PS*, P-256 for ES256).
func NewKey(t testing.TB, kid string, alg jose.SignatureAlgorithm) Key {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatalf("wiftest: generate key: %v", err)
	}
	return Key{ID: kid, Alg: alg, Private: priv}
}

// Publish adds keys to the served JWKS; SetKeys replaces them.
func (i *Issuer) Publish(keys ...Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append(i.published, keys...)
}

// SetKeys replaces the served JWKS.
func (i *Issuer) SetKeys(keys ...Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append([]Key{}, keys...)
}

// SetDown makes the discovery document and JWKS answer 503.
func (i *Issuer) SetDown(down bool) { i.down.Store(down) }

// Fetches counts the requests for the JWKS.
func (i *Issuer) Fetches() int64 { return i.fetches.Load() }

// JWKS is the served key set.
func (i *Issuer) JWKS() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, k := range i.published {
		set.Keys = append(set.Keys, k.Public())
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(err)
	}
	return b
}

// Claims returns the default claims of a token: iss, aud, iat, nbf and exp
// (10 minutes), at i.Now.
func (i *Issuer) Claims() map[string]any {
	now := i.Now()
	return map[string]any{"iss": i.URL, "aud": Audience, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
}

// Token signs the default claims overridden by claims (a nil value removes
// a claim) with the RSA key.
func (i *Issuer) Token(t testing.TB, claims map[string]any) string {
	t.Helper()
	return i.Sign(t, i.RSA, claims)
}

// Sign is Token with another key.
func (i *Issuer) Sign(t testing.TB, key Key, claims map[string]any) string {
	t.Helper()
	c := i.Claims()
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.Alg, Key: jose.JSONWebKey{Key: key.Private, KeyID: key.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("wiftest: signer: %v", err)
	}
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatalf("wiftest: sign: %v", err)
	}
	return tok
}

// Raw assembles a compact JWS from a header, claims and a signature
// function over the signing input (for alg "none", HMAC and other forged
// tokens).
func Raw(t testing.TB, hdr, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("wiftest: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(hdr) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

// HCPClaims are the subject and claims of an HCP Terraform run token
// (merged into the defaults by Token).
func HCPClaims(org, project, workspace, phase string) map[string]any {
	return map[string]any{
		"sub":                         fmt.Sprintf("organization:%s:project:%s:workspace:%s:run_phase:%s", org, project, workspace, phase),
		"terraform_organization_name": org,
		"terraform_project_name":      project,
		"terraform_workspace_name":    workspace,
		"terraform_run_phase":         phase,
		"terraform_full_workspace":    fmt.Sprintf("organization:%s:project:%s:workspace:%s", org, project, workspace),
	}
}

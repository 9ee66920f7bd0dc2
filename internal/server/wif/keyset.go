package wif

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// maxDocBytes bounds a fetched discovery document or JWKS.
const maxDocBytes = 1 << 20

// keyError is a signature-verification failure with its reason.
type keyError struct {
	reason string
	msg    string
}

func (e *keyError) Error() string { return e.msg }

// keySet is the JSON Web Key Set of one issuer (implements oidc.KeySet).
// It loads the keys on first use and again when a token names a key it
// does not hold, at most once per minRefresh; a failed load is remembered
// for minRefresh too, so an unreachable issuer costs one fetch per
// interval, not one per request. Loads are serialised by mu.
type keySet struct {
	issuer     string // configured name, for messages
	source     string // "jwksFile /path", "jwksUrl https://…", "discovery https://…"
	load       func(ctx context.Context) ([]jose.JSONWebKey, error)
	algs       []jose.SignatureAlgorithm
	now        func() time.Time
	minRefresh time.Duration

	mu       sync.Mutex
	keys     []jose.JSONWebKey // nil until the first successful load
	loadedAt time.Time         // last load attempt
	loadErr  error             // error of the last load attempt
}

// sigResult carries the keySet's typed error out of go-oidc, which wraps
// it as text.
type sigResult struct{ err *keyError }

type sigResultKey struct{}

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	payload, err := k.verify(ctx, raw)
	if err != nil {
		if res, ok := ctx.Value(sigResultKey{}).(*sigResult); ok {
			res.err = err
		}
		return nil, err
	}
	return payload, nil
}

func (k *keySet) verify(ctx context.Context, raw string) ([]byte, *keyError) {
	jws, err := jose.ParseSignedCompact(raw, k.algs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, &keyError{api.ReasonTokenMalformed, "the workload-identity token is not a signed JWT"}
	}
	h := jws.Signatures[0].Header
	cands, kerr := k.keysFor(ctx, h.KeyID, h.Algorithm)
	if kerr != nil {
		return nil, kerr
	}
	for _, key := range cands {
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, nil
		}
	}
	return nil, &keyError{api.ReasonBadSignature, fmt.Sprintf(
		"the workload-identity token's signature does not verify against the keys of trusted issuer %q: it was not issued by that issuer or it was altered", k.issuer)}
}

// keysFor returns the keys that may have signed a token with this kid and
// alg, loading or refreshing the set when none is known.
func (k *keySet) keysFor(ctx context.Context, kid, alg string) ([]jose.JSONWebKey, *keyError) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if m := matchKeys(k.keys, kid, alg); len(m) > 0 {
		return m, nil
	}
	if k.loadedAt.IsZero() || k.now().Sub(k.loadedAt) >= k.minRefresh {
		// Bound the fetch by its own timeout, not by the request: a
		// caller giving up must not make the failure stick for everyone.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		keys, err := k.load(lctx)
		cancel()
		k.loadedAt, k.loadErr = k.now(), err
		if err == nil {
			k.keys = keys
		}
		if m := matchKeys(k.keys, kid, alg); len(m) > 0 {
			return m, nil
		}
	}
	if k.keys == nil || (k.loadErr != nil && kid != "") {
		return nil, &keyError{api.ReasonIssuerUnavailable, fmt.Sprintf(
			"the keys of trusted issuer %q could not be loaded from %s: %v; the server retries at most every %s", k.issuer, k.source, k.loadErr, k.minRefresh)}
	}
	if kid == "" {
		return nil, &keyError{api.ReasonUnknownKey, fmt.Sprintf(
			"the workload-identity token names no key (kid) and trusted issuer %q has no key for algorithm %s", k.issuer, alg)}
	}
	return nil, &keyError{api.ReasonUnknownKey, fmt.Sprintf(
		"the workload-identity token is signed with key %q, which trusted issuer %q does not publish (%s, refreshed within the last %s)", clip(kid), k.issuer, k.source, k.minRefresh)}
}

// matchKeys selects the keys for kid ("" = any) usable with alg.
func matchKeys(keys []jose.JSONWebKey, kid, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range keys {
		if (kid == "" || key.KeyID == kid) && (key.Algorithm == "" || key.Algorithm == alg) {
			out = append(out, key)
		}
	}
	return out
}

// parseJWKS decodes a JSON Web Key Set and keeps its public signing keys.
// Keys of types go-jose does not know, symmetric keys and encryption keys
// are skipped; a set without any usable key is an error.
func parseJWKS(b []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	var out []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil {
			continue
		}
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		if !key.IsPublic() {
			key = key.Public() // a private key published by mistake: keep its public half
		}
		if !key.Valid() || !key.IsPublic() {
			continue // symmetric keys are never accepted
		}
		out = append(out, key)
	}
	if len(out) == 0 {
		return nil, errors.New(`the JSON Web Key Set has no public signing key ({"keys":[{"kty":"RSA"|"EC",…}]})`)
	}
	return out, nil
}

func fileLoader(path string) func(context.Context) ([]jose.JSONWebKey, error) {
	return func(context.Context) ([]jose.JSONWebKey, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return parseJWKS(b)
	}
}

func urlLoader(hc *http.Client, u string) func(context.Context) ([]jose.JSONWebKey, error) {
	return func(ctx context.Context) ([]jose.JSONWebKey, error) {
		b, err := httpGet(ctx, hc, u)
		if err != nil {
			return nil, err
		}
		return parseJWKS(b)
	}
}

// discoveryLoader finds jwks_uri in the issuer's discovery document (once)
// and loads the set from there.
func discoveryLoader(hc *http.Client, issuer string) func(context.Context) ([]jose.JSONWebKey, error) {
	var jwksURI string // guarded by keySet.mu: loads are serialised
	return func(ctx context.Context) ([]jose.JSONWebKey, error) {
		if jwksURI == "" {
			wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
			b, err := httpGet(ctx, hc, wellKnown)
			if err != nil {
				return nil, err
			}
			var doc struct {
				Issuer  string `json:"issuer"`
				JWKSURI string `json:"jwks_uri"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				return nil, fmt.Errorf("discovery document %s is not JSON: %w", wellKnown, err)
			}
			if doc.Issuer != issuer {
				return nil, fmt.Errorf("discovery document %s names issuer %q, not %q", wellKnown, doc.Issuer, issuer)
			}
			if err := checkHTTPURL(doc.JWKSURI); err != nil {
				return nil, fmt.Errorf("discovery document %s: jwks_uri %w", wellKnown, err)
			}
			jwksURI = doc.JWKSURI
		}
		b, err := httpGet(ctx, hc, jwksURI)
		if err != nil {
			return nil, err
		}
		return parseJWKS(b)
	}
}

func httpGet(ctx context.Context, hc *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if len(b) > maxDocBytes {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", u, maxDocBytes)
	}
	return b, nil
}

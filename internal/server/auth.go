package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Credential kinds.
const (
	CredentialToken  = "token"   // Authorization: Bearer
	CredentialAPIKey = "api_key" // X-Nimbus-Api-Key
)

// Credential is one accepted secret and the tenants it may use.
type Credential struct {
	Kind   string // CredentialToken or CredentialAPIKey
	Secret string // never logged
	// Tenants the credential may use; "*" means every tenant.
	Tenants []string
	// Name identifies the credential in logs (never the secret); default
	// "<kind>#<n>".
	Name string
}

type storedCred struct {
	kind    string
	name    string
	hash    [32]byte
	all     bool
	tenants map[string]bool
}

// principal is an authenticated caller.
type principal struct {
	cred *storedCred
}

func (p principal) allowed(tenant string) bool { return p.cred.all || p.cred.tenants[tenant] }

type authenticator struct {
	creds   []*storedCred
	mu      sync.RWMutex
	tenants map[string]bool
}

func newAuthenticator(creds []Credential, tenants []string) (*authenticator, error) {
	a := &authenticator{tenants: map[string]bool{}}
	for _, t := range tenants {
		if err := api.ValidateName(t); err != nil {
			return nil, fmt.Errorf("tenant %w", err)
		}
		a.tenants[t] = true
	}
	for i, c := range creds {
		if c.Secret == "" {
			return nil, errors.New("credential with an empty secret")
		}
		if c.Kind != CredentialToken && c.Kind != CredentialAPIKey {
			return nil, fmt.Errorf("credential kind %q: must be %q or %q", c.Kind, CredentialToken, CredentialAPIKey)
		}
		sc := &storedCred{kind: c.Kind, name: c.Name, hash: sha256.Sum256([]byte(c.Secret)), tenants: map[string]bool{}}
		if sc.name == "" {
			sc.name = fmt.Sprintf("%s#%d", c.Kind, i+1)
		}
		if len(c.Tenants) == 0 {
			return nil, fmt.Errorf("credential %s is bound to no tenant: give tenant ids or \"*\"", sc.name)
		}
		for _, t := range c.Tenants {
			if t == "*" {
				sc.all = true
				continue
			}
			if err := api.ValidateName(t); err != nil {
				return nil, fmt.Errorf("credential %s: tenant %w", sc.name, err)
			}
			sc.tenants[t] = true
			a.tenants[t] = true
		}
		a.creds = append(a.creds, sc)
	}
	return a, nil
}

func (a *authenticator) addTenant(t string) {
	a.mu.Lock()
	a.tenants[t] = true
	a.mu.Unlock()
}

func (a *authenticator) tenantExists(t string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.tenants[t]
}

// visibleTenants lists the tenants p may use, sorted.
func (a *authenticator) visibleTenants(p principal) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []string
	for t := range a.tenants {
		if p.allowed(t) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// authenticate finds the credential of r. It compares SHA-256 hashes in
// constant time against every configured credential of the presented kind.
func (a *authenticator) authenticate(r *http.Request) (principal, *apiError) {
	var kind, secret string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return principal{}, errf(api.CodeUnauthenticated, "the Authorization header must be \"Bearer <token>\"")
		}
		kind, secret = CredentialToken, strings.TrimSpace(tok)
	} else if k := r.Header.Get(api.HeaderAPIKey); k != "" {
		kind, secret = CredentialAPIKey, k
	} else {
		return principal{}, errf(api.CodeUnauthenticated, "no credential: send \"Authorization: Bearer <token>\" or \"%s: <key>\"", api.HeaderAPIKey)
	}
	h := sha256.Sum256([]byte(secret))
	var found *storedCred
	for _, c := range a.creds {
		if subtle.ConstantTimeCompare(c.hash[:], h[:]) == 1 && c.kind == kind && found == nil {
			found = c
		}
	}
	if found == nil {
		if kind == CredentialToken {
			return principal{}, errf(api.CodeUnauthenticated, "the bearer token is not valid for this server")
		}
		return principal{}, errf(api.CodeUnauthenticated, "the API key is not valid for this server")
	}
	return principal{cred: found}, nil
}

// ParseCredentialFlag parses "secret=tenant1,tenant2" or "secret=*".
func ParseCredentialFlag(kind, v string) (Credential, error) {
	i := strings.LastIndex(v, "=")
	if i <= 0 || i == len(v)-1 {
		return Credential{}, fmt.Errorf("must be SECRET=TENANT[,TENANT…] or SECRET=*")
	}
	tenants := strings.Split(v[i+1:], ",")
	if slices.Contains(tenants, "") {
		return Credential{}, fmt.Errorf("empty tenant in the tenant list")
	}
	return Credential{Kind: kind, Secret: v[:i], Tenants: tenants}, nil
}

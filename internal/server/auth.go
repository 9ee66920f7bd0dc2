package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
)

// Credential kinds.
const (
	CredentialToken  = "token"   // Authorization: Bearer
	CredentialAPIKey = "api_key" // X-Nimbus-Api-Key
	// CredentialWorkloadIdentity is a JWT of a trusted issuer (bearer); it
	// is never configured as a secret, only through TrustedIssuers.
	CredentialWorkloadIdentity = "workload_identity"
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
	creds []*storedCred
	// wif verifies workload-identity tokens; nil without trusted issuers.
	wif     *wif.Verifier
	log     *slog.Logger
	mu      sync.RWMutex
	tenants map[string]bool
}

// newAuthenticator builds the authenticator of the static credentials and,
// when issuers are given, of workload-identity tokens (wo.TenantExists is
// set here: a rule's tenants must be configured tenants or tenants named by
// credentials).
func newAuthenticator(creds []Credential, tenants []string, issuers []wif.IssuerConfig, wo wif.Options, log *slog.Logger) (*authenticator, error) {
	a := &authenticator{tenants: map[string]bool{}, log: log}
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
	if len(issuers) > 0 {
		wo.TenantExists = func(t string) bool { return a.tenants[t] }
		v, err := wif.New(issuers, wo)
		if err != nil {
			return nil, err
		}
		a.wif = v
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
			if a.wif != nil && wif.LooksLikeJWT(secret) {
				return a.authenticateWorkload(r, secret)
			}
			return principal{}, errf(api.CodeUnauthenticated, "the bearer token is not valid for this server")
		}
		return principal{}, errf(api.CodeUnauthenticated, "the API key is not valid for this server")
	}
	return principal{cred: found}, nil
}

// authenticateWorkload verifies a workload-identity token and checks that
// a read-only grant makes only calls it may. The log names the issuer,
// subject and rule, never the token.
func (a *authenticator) authenticateWorkload(r *http.Request, token string) (principal, *apiError) {
	g, err := a.wif.Verify(r.Context(), token)
	if err != nil {
		we := &wif.Error{Reason: api.ReasonTokenMalformed, Message: "the workload-identity token is not valid"}
		errors.As(err, &we)
		a.log.Info("workload-identity token refused", "requestId", requestID(r), "issuer", we.Issuer, "subject", we.Subject, "reason", we.Reason)
		code := api.CodeUnauthenticated
		if we.Denied {
			code = api.CodePermissionDenied
		}
		return principal{}, &apiError{code: code, message: we.Message, details: &api.ErrorDetails{Reason: we.Reason}}
	}
	sc := &storedCred{kind: CredentialWorkloadIdentity, name: g.Issuer + "/" + g.Rule + " (" + g.Subject + ")", tenants: map[string]bool{}}
	for _, t := range g.Tenants {
		sc.tenants[t] = true
	}
	if g.ReadOnly() && !readOnlyAllowed(r) {
		a.log.Info("workload-identity token refused a change", "requestId", requestID(r), "issuer", g.Issuer, "subject", g.Subject, "rule", g.Rule,
			"method", r.Method, "path", r.URL.Path)
		return principal{}, &apiError{code: api.CodePermissionDenied, details: &api.ErrorDetails{Reason: api.ReasonReadOnly}, message: fmt.Sprintf(
			"rule %q of trusted issuer %q grants the workload-identity token (subject %q) read-only access, and %s %s is a change; "+
				"read-only tokens may only read and open or close sessions: use a token that matches a \"readWrite\" rule "+
				"(for HCP Terraform, the apply-phase token)", g.Rule, g.Issuer, g.Subject, r.Method, r.URL.Path)}
	}
	a.log.Debug("workload-identity token accepted", "requestId", requestID(r), "issuer", g.Issuer, "subject", g.Subject, "rule", g.Rule, "access", g.Access)
	return principal{cred: sc}, nil
}

// Routes a read-only grant may call besides GET and HEAD: opening and
// closing sessions (an ephemeral session is opened during plan). The
// patterns are those of routes.go.
var readOnlyRoutes = map[string]bool{
	"POST /v1/tenants/{tenant}/sessions":            true,
	"POST /v1/tenants/{tenant}/sessions/{id}/close": true,
}

// readOnlyAllowed reports whether a read-only grant may make the call r
// (r.Pattern is set by the mux before authentication runs).
func readOnlyAllowed(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead || readOnlyRoutes[r.Pattern]
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

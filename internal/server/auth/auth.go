package auth

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

// Principal is an authenticated caller; the zero Principal is nobody.
type Principal struct {
	cred *storedCred
}

// Valid reports whether p is an authenticated caller.
func (p Principal) Valid() bool { return p.cred != nil }

// Allowed reports whether p may use tenant.
func (p Principal) Allowed(tenant string) bool {
	return p.cred != nil && (p.cred.all || p.cred.tenants[tenant])
}

// Name identifies p's credential in logs and rate limits (never the secret).
func (p Principal) Name() string {
	if p.cred == nil {
		return ""
	}
	return p.cred.name
}

// SecretHash is the SHA-256 of p's secret (zero for workload identities):
// it tells credentials apart without holding the secret.
func (p Principal) SecretHash() [32]byte {
	if p.cred == nil {
		return [32]byte{}
	}
	return p.cred.hash
}

// Error is a refused credential: the API error code (api.CodeUnauthenticated
// or api.CodePermissionDenied), a message for the caller and, for
// workload-identity tokens, details with the reason (api.Reason*).
type Error struct {
	Code    string
	Message string
	Details *api.ErrorDetails
}

// Error implements error: "code: message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

func refuse(format string, args ...any) *Error {
	return &Error{Code: api.CodeUnauthenticated, Message: fmt.Sprintf(format, args...)}
}

// Authenticator checks credentials and knows which tenants exist.
type Authenticator struct {
	creds []*storedCred
	// wif verifies workload-identity tokens; nil without trusted issuers.
	wif     *wif.Verifier
	log     *slog.Logger
	mu      sync.RWMutex
	tenants map[string]bool
}

// New builds the authenticator of the static credentials and,
// when issuers are given, of workload-identity tokens (wo.TenantExists is
// set here: a rule's tenants must be configured tenants or tenants named by
// credentials).
func New(creds []Credential, tenants []string, issuers []wif.IssuerConfig, wo wif.Options, log *slog.Logger) (*Authenticator, error) {
	a := &Authenticator{tenants: map[string]bool{}, log: log}
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

// AddTenant makes tenant t exist.
func (a *Authenticator) AddTenant(t string) {
	a.mu.Lock()
	a.tenants[t] = true
	a.mu.Unlock()
}

// TenantExists reports whether tenant t exists.
func (a *Authenticator) TenantExists(t string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.tenants[t]
}

// Tenants lists every tenant that exists, sorted.
func (a *Authenticator) Tenants() []string { return a.visible(func(string) bool { return true }) }

// VisibleTenants lists the tenants p may use, sorted.
func (a *Authenticator) VisibleTenants(p Principal) []string { return a.visible(p.Allowed) }

func (a *Authenticator) visible(allowed func(string) bool) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []string
	for t := range a.tenants {
		if allowed(t) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// Authenticate finds the credential of r. It compares SHA-256 hashes in
// constant time against every configured credential of the presented kind.
// requestID names the request in the log lines of refused workload
// identities.
func (a *Authenticator) Authenticate(r *http.Request, requestID string) (Principal, *Error) {
	var kind, secret string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return Principal{}, refuse("the Authorization header must be \"Bearer <token>\"")
		}
		kind, secret = CredentialToken, strings.TrimSpace(tok)
	} else if k := r.Header.Get(api.HeaderAPIKey); k != "" {
		kind, secret = CredentialAPIKey, k
	} else {
		return Principal{}, refuse("no credential: send \"Authorization: Bearer <token>\" or \"%s: <key>\"", api.HeaderAPIKey)
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
				return a.authenticateWorkload(r, requestID, secret)
			}
			return Principal{}, refuse("the bearer token is not valid for this server")
		}
		return Principal{}, refuse("the API key is not valid for this server")
	}
	return Principal{cred: found}, nil
}

// authenticateWorkload verifies a workload-identity token and checks that
// a read-only grant makes only calls it may. The log names the issuer,
// subject and rule, never the token.
func (a *Authenticator) authenticateWorkload(r *http.Request, requestID, token string) (Principal, *Error) {
	g, err := a.wif.Verify(r.Context(), token)
	if err != nil {
		we := &wif.Error{Reason: api.ReasonTokenMalformed, Message: "the workload-identity token is not valid"}
		errors.As(err, &we)
		a.log.Info("workload-identity token refused", "requestId", requestID, "issuer", we.Issuer, "subject", we.Subject, "reason", we.Reason)
		code := api.CodeUnauthenticated
		if we.Denied {
			code = api.CodePermissionDenied
		}
		return Principal{}, &Error{Code: code, Message: we.Message, Details: &api.ErrorDetails{Reason: we.Reason}}
	}
	sc := &storedCred{kind: CredentialWorkloadIdentity, name: g.Issuer + "/" + g.Rule + " (" + g.Subject + ")", tenants: map[string]bool{}}
	for _, t := range g.Tenants {
		sc.tenants[t] = true
	}
	if g.ReadOnly() && !readOnlyAllowed(r) {
		a.log.Info("workload-identity token refused a change", "requestId", requestID, "issuer", g.Issuer, "subject", g.Subject, "rule", g.Rule,
			"method", r.Method, "path", r.URL.Path)
		return Principal{}, &Error{Code: api.CodePermissionDenied, Details: &api.ErrorDetails{Reason: api.ReasonReadOnly}, Message: fmt.Sprintf(
			"rule %q of trusted issuer %q grants the workload-identity token (subject %q) read-only access, and %s %s is a change; "+
				"read-only tokens may only read and open or close sessions: use a token that matches a \"readWrite\" rule "+
				"(for HCP Terraform, the apply-phase token)", g.Rule, g.Issuer, g.Subject, r.Method, r.URL.Path)}
	}
	a.log.Debug("workload-identity token accepted", "requestId", requestID, "issuer", g.Issuer, "subject", g.Subject, "rule", g.Rule, "access", g.Access)
	return Principal{cred: sc}, nil
}

// Routes a read-only grant may call besides GET and HEAD: opening and
// closing sessions (an ephemeral session is opened during plan). The
// patterns are those of the HTTP layer's routes (internal/server/httpapi).
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

package wif

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Access levels a rule grants.
const (
	// AccessRead allows reads (GET, list, long-poll) plus opening and
	// closing sessions. It is the default.
	AccessRead = "read"
	// AccessReadWrite allows every call.
	AccessReadWrite = "readWrite"
)

// IssuerConfig is one entry of "trustedIssuers" in the server's --config
// file (JSON; unknown fields are rejected by the file's decoder):
//
//	{
//	  "name": "hcp-terraform",
//	  "issuer": "https://app.terraform.io",
//	  "audiences": ["nimbus"],
//	  "jwksFile": "/etc/nimbus/hcp-jwks.json",
//	  "rules": [
//	    {"subject": "organization:acme:project:*:workspace:prod-*:run_phase:apply", "tenants": ["prod"], "access": "readWrite"},
//	    {"claims": {"terraform_organization_name": "acme"}, "tenants": ["sandbox"]}
//	  ]
//	}
//
// At most one of JWKSFile and JWKSURL is set; with neither, the keys are
// found through the issuer's discovery document
// (<issuer>/.well-known/openid-configuration), fetched on first use.
type IssuerConfig struct {
	// Name identifies the issuer in logs and errors.
	Name string `json:"name"`
	// Issuer is the exact "iss" claim of its tokens.
	Issuer string `json:"issuer"`
	// Audiences are the accepted "aud" values; a token must carry one.
	Audiences []string `json:"audiences"`
	// JWKSFile is a local JSON Web Key Set, re-read when a token names a
	// key it does not hold.
	JWKSFile string `json:"jwksFile,omitempty"`
	// JWKSURL is fetched over HTTP(S) on first use and again when a token
	// names a key it does not hold.
	JWKSURL string `json:"jwksUrl,omitempty"`
	// Rules map a verified token to tenants; the first match wins.
	Rules []Rule `json:"rules"`
}

// Rule maps tokens whose claims match to tenants and an access level. A
// rule needs Subject, Claims or both (all of which must match).
type Rule struct {
	// Name identifies the rule in logs and errors (default "rule #<n>").
	Name string `json:"name,omitempty"`
	// Subject is a glob over the "sub" claim: "*" matches any run of
	// characters other than ":"; everything else matches itself.
	Subject string `json:"subject,omitempty"`
	// Claims must all equal the token's claims of the same name (string
	// claims compare as is; numbers and booleans by their JSON text).
	Claims map[string]string `json:"claims,omitempty"`
	// Tenants the token may use; each must exist on the server.
	Tenants []string `json:"tenants"`
	// Access is AccessRead (default) or AccessReadWrite.
	Access string `json:"access,omitempty"`
}

// rule is a validated Rule.
type rule struct {
	name    string
	subject *regexp.Regexp // nil: any subject
	claims  map[string]string
	tenants []string
	access  string
}

// compileSubject turns a subject glob into an anchored regexp.
func compileSubject(glob string) *regexp.Regexp {
	parts := strings.Split(glob, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, "[^:]*") + "$")
}

// validate checks c and compiles its rules. tenantExists reports whether a
// tenant exists on the server.
func (c *IssuerConfig) validate(tenantExists func(string) bool) ([]rule, error) {
	if strings.TrimSpace(c.Name) == "" {
		return nil, errors.New(`every trusted issuer needs a "name" (it identifies the issuer in logs and errors)`)
	}
	where := fmt.Sprintf("trusted issuer %q", c.Name)
	if c.Issuer == "" {
		return nil, fmt.Errorf(`%s: "issuer" is required: the exact "iss" claim of its tokens, e.g. "https://app.terraform.io"`, where)
	}
	if err := checkHTTPURL(c.Issuer); err != nil {
		return nil, fmt.Errorf(`%s: "issuer" %w`, where, err)
	}
	if len(c.Audiences) == 0 {
		return nil, fmt.Errorf(`%s: "audiences" must list at least one accepted "aud" value, e.g. ["nimbus"]`, where)
	}
	for _, a := range c.Audiences {
		if strings.TrimSpace(a) == "" {
			return nil, fmt.Errorf(`%s: "audiences" contains an empty value`, where)
		}
	}
	if c.JWKSFile != "" && c.JWKSURL != "" {
		return nil, fmt.Errorf(`%s: set at most one of "jwksFile" and "jwksUrl" (or neither, to use the issuer's discovery document)`, where)
	}
	if c.JWKSURL != "" {
		if err := checkHTTPURL(c.JWKSURL); err != nil {
			return nil, fmt.Errorf(`%s: "jwksUrl" %w`, where, err)
		}
	}
	if len(c.Rules) == 0 {
		return nil, fmt.Errorf(`%s: "rules" must map tokens to tenants with at least one rule`, where)
	}
	out := make([]rule, 0, len(c.Rules))
	names := map[string]bool{}
	for i, r := range c.Rules {
		cr := rule{name: r.Name, claims: r.Claims, tenants: r.Tenants, access: r.Access}
		if cr.name == "" {
			cr.name = fmt.Sprintf("rule #%d", i+1)
		}
		if names[cr.name] {
			return nil, fmt.Errorf("%s: two rules are named %q", where, cr.name)
		}
		names[cr.name] = true
		rw := fmt.Sprintf("%s, %s", where, cr.name)
		if r.Subject == "" && len(r.Claims) == 0 {
			return nil, fmt.Errorf(`%s: set "subject", "claims" or both (a rule without either would match every token)`, rw)
		}
		if r.Subject != "" {
			cr.subject = compileSubject(r.Subject)
		}
		for k := range r.Claims {
			if k == "" {
				return nil, fmt.Errorf(`%s: "claims" has an empty claim name`, rw)
			}
		}
		switch r.Access {
		case "":
			cr.access = AccessRead
		case AccessRead, AccessReadWrite:
		default:
			return nil, fmt.Errorf(`%s: "access" %q: use %q (the default) or %q`, rw, r.Access, AccessRead, AccessReadWrite)
		}
		if len(r.Tenants) == 0 {
			return nil, fmt.Errorf(`%s: "tenants" must name at least one tenant`, rw)
		}
		for _, t := range r.Tenants {
			if !tenantExists(t) {
				return nil, fmt.Errorf(`%s: tenant %q does not exist on this server: add it to "tenants" in the config file (or with --tenant)`, rw, t)
			}
		}
		out = append(out, cr)
	}
	return out, nil
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q must be an http(s) URL such as https://app.terraform.io", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must not contain user information, a query or a fragment", s)
	}
	return nil
}

// match reports whether the rule matches the token's subject and claims.
func (r *rule) match(subject string, claims map[string]any) bool {
	if r.subject != nil && !r.subject.MatchString(subject) {
		return false
	}
	for k, want := range r.claims {
		if got, ok := claimText(claims[k]); !ok || got != want {
			return false
		}
	}
	return true
}

// claimText renders a scalar claim for exact comparison; arrays, objects
// and absent claims never match.
func claimText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

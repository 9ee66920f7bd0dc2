package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Environment variables the client reads, in discovery order.
const (
	EnvEndpoint                   = "NIMBUS_ENDPOINT"
	EnvToken                      = "NIMBUS_TOKEN"
	EnvBearerToken                = "NIMBUS_BEARER_TOKEN"
	EnvAPIKey                     = "NIMBUS_API_KEY"
	EnvWorkloadIdentityToken      = "NIMBUS_WORKLOAD_IDENTITY_TOKEN"
	EnvApplicationCredentials     = "NIMBUS_APPLICATION_CREDENTIALS"
	EnvWorkloadIdentityTokenFile  = "NIMBUS_WORKLOAD_IDENTITY_TOKEN_FILE"
	EnvTenantID                   = "NIMBUS_TENANT_ID"
	DefaultCredentialsFileRelPath = ".config/nimbus/application_default_credentials.json"
)

// EnvTFCWorkloadIdentityToken is HCP Terraform's run token (set when the
// workspace sets TFC_WORKLOAD_IDENTITY_AUDIENCE), consulted after every
// source of the SDK's order.
const EnvTFCWorkloadIdentityToken = "TFC_WORKLOAD_IDENTITY_TOKEN"

// Credential kinds reported by Settings.
const (
	CredentialToken            = "token"            // bearer token
	CredentialAPIKey           = "apiKey"           // X-Nimbus-Api-Key
	CredentialWorkloadIdentity = "workloadIdentity" // workload-identity token, sent as bearer
)

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "terraform-provider-nimbus/dev"

// Default timeouts and limits.
const (
	DefaultRequestTimeout = 60 * time.Second
	DefaultMaxRetryWait   = 5 * time.Second
	DefaultRetryTimeout   = 2 * time.Minute
	DefaultWaitTimeout    = 30 * time.Second
	DefaultWaitInterval   = 250 * time.Millisecond
)

// RequestLogFunc is called once per HTTP attempt, after the response headers
// arrived (status 0 for a transport error). path never includes the query
// string; nothing passed here is secret.
type RequestLogFunc func(ctx context.Context, method, path string, status int, duration time.Duration, requestID string)

// Config configures a Client. Every field is optional: what is not set is
// discovered (see New).
type Config struct {
	// Endpoint is the server's base URL, e.g. http://127.0.0.1:8080.
	Endpoint string
	// TenantID is the default tenant of every call (InTenant overrides it).
	TenantID string
	// Token is a bearer token (Authorization: Bearer).
	Token string
	// APIKey is an API key (X-Nimbus-Api-Key).
	APIKey string
	// Credential is a workload-identity token (Authorization: Bearer); the
	// provider calls this option "workload_identity_token".
	Credential string
	// CredentialsFile is an explicit credential-file path; it overrides
	// NIMBUS_APPLICATION_CREDENTIALS and the default
	// ~/.config/nimbus/application_default_credentials.json.
	CredentialsFile string
	// UserAgent is sent on every request (default DefaultUserAgent). The
	// provider sets "terraform-provider-nimbus/<version>".
	UserAgent string
	// HTTPClient, if set, is used as is. The default client has a keep-alive
	// pool sized for Terraform's parallelism (64 idle connections per host).
	HTTPClient *http.Client
	// Getenv reads environment variables (nil = os.Getenv).
	Getenv func(string) string
	// HomeDir is the home directory for the default credential file
	// ("" = os.UserHomeDir()).
	HomeDir string
	// RequestTimeout bounds one HTTP attempt (default 60s; a long-poll GET
	// gets its wait added).
	RequestTimeout time.Duration
	// MaxRetries caps how often a retryable request is retried: 0 (the
	// default) = no count, retry until the context's deadline; negative =
	// never retry. What is retried: see the package documentation.
	MaxRetries int
	// MaxRetryWait caps the exponential backoff between attempts (default
	// 5s; the delays start at 100ms, double, and are jittered). A server's
	// Retry-After is honoured even when longer, unless it ends after the
	// context's deadline: then the error is returned at once.
	MaxRetryWait time.Duration
	// RetryTimeout bounds retrying for a call whose context has no deadline
	// (default 2m). The provider always passes a deadline: the resource's
	// `timeouts`.
	RetryTimeout time.Duration
	// RequestLog, if set, is called after every HTTP attempt.
	RequestLog RequestLogFunc
}

// Settings reports what the client resolved and where each value came from.
// It never contains a credential value.
type Settings struct {
	Endpoint       string
	EndpointSource string // e.g. `option "endpoint"`, "environment variable NIMBUS_ENDPOINT", "credential file /path"; "" if unset
	TenantID       string
	TenantSource   string
	// CredentialKind is CredentialToken, CredentialAPIKey,
	// CredentialWorkloadIdentity or "" when none was found.
	CredentialKind   string
	CredentialSource string
	// CredentialsFile is the credential-file path consulted ("" if none was
	// needed or the default path does not exist).
	CredentialsFile string
	UserAgent       string
}

// CredentialFile is the JSON shape of the credential file
// (~/.config/nimbus/application_default_credentials.json, or the path in
// NIMBUS_APPLICATION_CREDENTIALS / Config.CredentialsFile):
//
//	{
//	  "endpoint": "https://nimbus.example.com",
//	  "tenantId": "demo",
//	  "token": "…"                     // or "apiKey": "…", or "workloadIdentityToken": "…"
//	}
//
// Every field is optional; at most one credential field may be set. Unknown
// fields are rejected so that a typo does not silently drop a setting.
type CredentialFile struct {
	Endpoint              string `json:"endpoint,omitempty"`
	TenantID              string `json:"tenantId,omitempty"`
	Token                 string `json:"token,omitempty"`
	APIKey                string `json:"apiKey,omitempty"`
	WorkloadIdentityToken string `json:"workloadIdentityToken,omitempty"`
}

// credential is a resolved credential. When tokenFile is set, the value is
// (re-)read from that file on each request so rotated tokens are picked up.
type credential struct {
	kind      string
	value     string
	tokenFile string
}

type resolved struct {
	endpoint *url.URL
	settings Settings
	cred     credential
}

func (c Config) getenv(k string) string {
	if c.Getenv != nil {
		return strings.TrimSpace(c.Getenv(k))
	}
	return strings.TrimSpace(os.Getenv(k))
}

// resolve runs discovery. Missing values are not an error (the first request
// reports them); invalid ones are.
func (c Config) resolve() (*resolved, error) {
	r := &resolved{}
	s := &r.settings
	s.UserAgent = c.UserAgent
	if s.UserAgent == "" {
		s.UserAgent = DefaultUserAgent
	}

	// Endpoint: option → env.
	endpoint := ""
	switch {
	case strings.TrimSpace(c.Endpoint) != "":
		endpoint, s.EndpointSource = strings.TrimSpace(c.Endpoint), `option "endpoint"`
	case c.getenv(EnvEndpoint) != "":
		endpoint, s.EndpointSource = c.getenv(EnvEndpoint), "environment variable "+EnvEndpoint
	}

	// Credential: options → env.
	switch {
	case c.Token != "":
		r.cred, s.CredentialSource = credential{kind: CredentialToken, value: c.Token}, `option "token"`
	case c.APIKey != "":
		r.cred, s.CredentialSource = credential{kind: CredentialAPIKey, value: c.APIKey}, `option "api_key"`
	case c.Credential != "":
		r.cred, s.CredentialSource = credential{kind: CredentialWorkloadIdentity, value: c.Credential}, `option "workload_identity_token"`
	case c.getenv(EnvToken) != "":
		r.cred, s.CredentialSource = credential{kind: CredentialToken, value: c.getenv(EnvToken)}, "environment variable "+EnvToken
	case c.getenv(EnvBearerToken) != "":
		r.cred, s.CredentialSource = credential{kind: CredentialToken, value: c.getenv(EnvBearerToken)}, "environment variable "+EnvBearerToken
	case c.getenv(EnvAPIKey) != "":
		r.cred, s.CredentialSource = credential{kind: CredentialAPIKey, value: c.getenv(EnvAPIKey)}, "environment variable "+EnvAPIKey
	case c.getenv(EnvWorkloadIdentityToken) != "":
		r.cred, s.CredentialSource = credential{kind: CredentialWorkloadIdentity, value: c.getenv(EnvWorkloadIdentityToken)}, "environment variable "+EnvWorkloadIdentityToken
	}

	// Tenant: option → env.
	tenant := ""
	switch {
	case strings.TrimSpace(c.TenantID) != "":
		tenant, s.TenantSource = strings.TrimSpace(c.TenantID), `option "tenant_id"`
	case c.getenv(EnvTenantID) != "":
		tenant, s.TenantSource = c.getenv(EnvTenantID), "environment variable "+EnvTenantID
	}

	// Credential file, consulted only for what is still missing.
	if endpoint == "" || r.cred.kind == "" || tenant == "" {
		path, explicit := c.credentialsFilePath()
		if path != "" {
			f, err := readCredentialFile(path, explicit)
			if err != nil {
				return nil, err
			}
			if f != nil {
				s.CredentialsFile = path
				src := "credential file " + path
				if endpoint == "" && f.Endpoint != "" {
					endpoint, s.EndpointSource = f.Endpoint, src
				}
				if tenant == "" && f.TenantID != "" {
					tenant, s.TenantSource = f.TenantID, src
				}
				if r.cred.kind == "" {
					switch {
					case f.Token != "":
						r.cred, s.CredentialSource = credential{kind: CredentialToken, value: f.Token}, src
					case f.APIKey != "":
						r.cred, s.CredentialSource = credential{kind: CredentialAPIKey, value: f.APIKey}, src
					case f.WorkloadIdentityToken != "":
						r.cred, s.CredentialSource = credential{kind: CredentialWorkloadIdentity, value: f.WorkloadIdentityToken}, src
					}
				}
			}
		}
	}

	// Workload-identity token file, last.
	if r.cred.kind == "" {
		if p := c.getenv(EnvWorkloadIdentityTokenFile); p != "" {
			r.cred = credential{kind: CredentialWorkloadIdentity, tokenFile: p}
			s.CredentialSource = fmt.Sprintf("token file %s (environment variable %s)", p, EnvWorkloadIdentityTokenFile)
		}
	}

	// HCP Terraform's workload-identity run token, after the SDK's order.
	if r.cred.kind == "" {
		if v := c.getenv(EnvTFCWorkloadIdentityToken); v != "" {
			r.cred, s.CredentialSource = credential{kind: CredentialWorkloadIdentity, value: v}, "environment variable "+EnvTFCWorkloadIdentityToken
		}
	}
	s.CredentialKind = r.cred.kind

	if endpoint != "" {
		u, err := parseEndpoint(endpoint)
		if err != nil {
			return nil, &ConfigError{Setting: SettingEndpoint, Invalid: true, Source: s.EndpointSource,
				Message: fmt.Sprintf("the endpoint %s from %s is malformed: %v", endpointForMessage(endpoint), s.EndpointSource, err)}
		}
		r.endpoint = u
		s.Endpoint = u.String()
	}
	if tenant != "" {
		if err := api.ValidateName(tenant); err != nil {
			return nil, &ConfigError{Setting: SettingTenant, Invalid: true, Source: s.TenantSource,
				Message: fmt.Sprintf("invalid tenant id from %s: %v", s.TenantSource, err)}
		}
		s.TenantID = tenant
	}
	return r, nil
}

// credentialsFilePath returns the credential-file path to consult and
// whether it was set explicitly (an explicit path must exist).
func (c Config) credentialsFilePath() (string, bool) {
	if c.CredentialsFile != "" {
		return c.CredentialsFile, true
	}
	if p := c.getenv(EnvApplicationCredentials); p != "" {
		return p, true
	}
	home := c.HomeDir
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", false
		}
		home = h
	}
	return filepath.Join(home, DefaultCredentialsFileRelPath), false
}

// readCredentialFile reads and validates a credential file. A missing
// default file yields (nil, nil).
func readCredentialFile(path string, explicit bool) (*CredentialFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, &ConfigError{Setting: SettingCredentialsFile, Err: err,
			Message: fmt.Sprintf("cannot read credential file %s: %v", path, pathlessErr(err))}
	}
	var f CredentialFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		// Never echo the file content: it holds secrets. Syntax and field
		// errors from encoding/json name offsets and field names only.
		return nil, &ConfigError{Setting: SettingCredentialsFile, Err: err,
			Message: fmt.Sprintf(`credential file %s is not valid: %v; expected a JSON object such as {"endpoint":"https://…","tenantId":"demo","token":"…"} (or "apiKey" / "workloadIdentityToken" instead of "token")`, path, jsonErrText(err))}
	}
	if dec.More() {
		return nil, &ConfigError{Setting: SettingCredentialsFile,
			Message: fmt.Sprintf("credential file %s is not valid: unexpected data after the JSON object", path)}
	}
	n := 0
	for _, v := range []string{f.Token, f.APIKey, f.WorkloadIdentityToken} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		return nil, &ConfigError{Setting: SettingCredentialsFile,
			Message: fmt.Sprintf(`credential file %s sets more than one of "token", "apiKey" and "workloadIdentityToken"; keep exactly one`, path)}
	}
	return &f, nil
}

func pathlessErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// jsonErrText describes a decode error without quoting input values.
func jsonErrText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("JSON syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be a %s", te.Field, te.Type)
	case errors.Is(err, io.EOF):
		return "the file is empty"
	}
	// DisallowUnknownFields: `json: unknown field "x"` names only the key.
	return strings.TrimPrefix(err.Error(), "json: ")
}

// EndpointForm is the form an endpoint must have, for error messages.
const EndpointForm = "http://host:port or https://host[:port] (for example http://127.0.0.1:8080)"

// ValidateEndpoint reports what is wrong with an endpoint value, or nil when
// the client can use it. The provider validates its `endpoint` attribute
// with it at plan time.
func ValidateEndpoint(s string) error {
	_, err := parseEndpoint(strings.TrimSpace(s))
	return err
}

// endpointForMessage quotes an endpoint for an error message, unless it may
// carry user information (a password): then it says so instead.
func endpointForMessage(s string) string {
	if strings.Contains(s, "@") {
		return "(value not shown: it contains user information)"
	}
	return fmt.Sprintf("%q", s)
}

func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		// "127.0.0.1:8080" fails to parse (a colon in the first path
		// segment) and "localhost:8080" parses as scheme "localhost" with
		// an opaque part: both lack the http:// or https:// prefix.
		if !strings.Contains(s, "://") {
			if strings.Contains(s, "@") {
				return nil, fmt.Errorf("it has no scheme; the expected form is %s", EndpointForm)
			}
			return nil, fmt.Errorf("it has no scheme; write it as http://%s (or https://%s): the expected form is %s", s, s, EndpointForm)
		}
		return nil, fmt.Errorf("it is not a URL; the expected form is %s", EndpointForm)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("the scheme %q is not supported; use http or https: the expected form is %s", u.Scheme, EndpointForm)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("it has no host; the expected form is %s", EndpointForm)
	}
	if u.User != nil {
		return nil, fmt.Errorf("it must not contain user information; configure the credential separately")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("it must not contain a query or fragment; the expected form is %s", EndpointForm)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.Path = strings.TrimSuffix(u.Path, api.BasePath)
	u.RawPath = ""
	return u, nil
}

func missingEndpointError(credFile string) *ConfigError {
	return &ConfigError{Setting: SettingEndpoint, Message: fmt.Sprintf(
		`no Nimbus endpoint configured: set the "endpoint" option, the %s environment variable, or "endpoint" in the credential file %s (path set by the "credentials_file" option or %s)`,
		EnvEndpoint, credFile, EnvApplicationCredentials)}
}

func missingCredentialError(credFile string) *ConfigError {
	return &ConfigError{Setting: SettingCredential, Message: fmt.Sprintf(
		`no Nimbus credential configured: set one of the "token", "api_key" or "workload_identity_token" (workload-identity credential) options; or one of the environment variables %s, %s, %s or %s; or "token", "apiKey" or "workloadIdentityToken" in the credential file %s (path set by the "credentials_file" option or %s); or name a workload-identity token file in %s; or, in HCP Terraform, set TFC_WORKLOAD_IDENTITY_AUDIENCE on the workspace so that the run gets %s`,
		EnvToken, EnvBearerToken, EnvAPIKey, EnvWorkloadIdentityToken, credFile, EnvApplicationCredentials, EnvWorkloadIdentityTokenFile, EnvTFCWorkloadIdentityToken)}
}

func missingTenantError(credFile string) *ConfigError {
	return &ConfigError{Setting: SettingTenant, Message: fmt.Sprintf(
		`no Nimbus tenant for this call: set the "tenant_id" option, the %s environment variable, or "tenantId" in the credential file %s, or pass a tenant for this call`,
		EnvTenantID, credFile)}
}

// readTokenFile reads a workload-identity token file.
func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", &ConfigError{Setting: SettingCredential, Err: err, Message: fmt.Sprintf(
			"cannot read the workload-identity token file %s named by %s: %v", path, EnvWorkloadIdentityTokenFile, pathlessErr(err))}
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", &ConfigError{Setting: SettingCredential, Message: fmt.Sprintf(
			"the workload-identity token file %s named by %s is empty", path, EnvWorkloadIdentityTokenFile)}
	}
	return tok, nil
}

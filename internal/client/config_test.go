package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// env is a fake environment for Config.Getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// isolated returns a Config with an empty environment and a home directory
// without a credential file, so the test machine's settings never leak in.
func isolated(t *testing.T, e env) Config {
	t.Helper()
	if e == nil {
		e = env{}
	}
	return Config{Getenv: e.get, HomeDir: t.TempDir()}
}

func writeCredFile(t *testing.T, dir string, v any) string {
	t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeDefaultCredFile(t *testing.T, home string, f CredentialFile) string {
	t.Helper()
	p := filepath.Join(home, DefaultCredentialsFileRelPath)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(f)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustNew(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestDiscovery_EndpointOrder(t *testing.T) {
	home := t.TempDir()
	credPath := writeDefaultCredFile(t, home, CredentialFile{Endpoint: "http://from-file:1", Token: "t"})
	cases := []struct {
		name       string
		option     string
		env        env
		want       string
		wantSource string
	}{
		{"option wins", "http://from-option:1", env{EnvEndpoint: "http://from-env:1"}, "http://from-option:1", `option "endpoint"`},
		{"env over file", "", env{EnvEndpoint: "http://from-env:1"}, "http://from-env:1", "environment variable NIMBUS_ENDPOINT"},
		{"file last", "", env{}, "http://from-file:1", "credential file " + credPath},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, Config{Endpoint: tc.option, Getenv: tc.env.get, HomeDir: home})
			s := c.Settings()
			if s.Endpoint != tc.want || s.EndpointSource != tc.wantSource {
				t.Fatalf("endpoint = %q from %q, want %q from %q", s.Endpoint, s.EndpointSource, tc.want, tc.wantSource)
			}
		})
	}
}

func TestDiscovery_CredentialOrder(t *testing.T) {
	home := t.TempDir()
	tokenFile := filepath.Join(t.TempDir(), "wi-token")
	if err := os.WriteFile(tokenFile, []byte("from-token-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fileDir := t.TempDir()
	cases := []struct {
		name     string
		cfg      Config
		env      env
		file     *CredentialFile // in an explicit credential file
		wantKind string
		wantSrc  string
		wantHdr  string // "Bearer x" or "key x"
	}{
		{"token option first", Config{Token: "opt-token", APIKey: "opt-key", Credential: "opt-wi"}, env{EnvToken: "env-token"}, nil,
			CredentialToken, `option "token"`, "Bearer opt-token"},
		{"api key option", Config{APIKey: "opt-key", Credential: "opt-wi"}, env{EnvToken: "env-token"}, nil,
			CredentialAPIKey, `option "api_key"`, "key opt-key"},
		{"credential option", Config{Credential: "opt-wi"}, env{EnvToken: "env-token"}, nil,
			CredentialWorkloadIdentity, `option "workload_identity_token"`, "Bearer opt-wi"},
		{"NIMBUS_TOKEN", Config{}, env{EnvToken: "env-token", EnvBearerToken: "env-bearer", EnvAPIKey: "env-key", EnvWorkloadIdentityToken: "env-wi"}, &CredentialFile{Token: "file-token"},
			CredentialToken, "environment variable NIMBUS_TOKEN", "Bearer env-token"},
		{"NIMBUS_BEARER_TOKEN", Config{}, env{EnvBearerToken: "env-bearer", EnvAPIKey: "env-key", EnvWorkloadIdentityToken: "env-wi"}, nil,
			CredentialToken, "environment variable NIMBUS_BEARER_TOKEN", "Bearer env-bearer"},
		{"NIMBUS_API_KEY", Config{}, env{EnvAPIKey: "env-key", EnvWorkloadIdentityToken: "env-wi"}, nil,
			CredentialAPIKey, "environment variable NIMBUS_API_KEY", "key env-key"},
		{"NIMBUS_WORKLOAD_IDENTITY_TOKEN", Config{}, env{EnvWorkloadIdentityToken: "env-wi", EnvWorkloadIdentityTokenFile: tokenFile}, &CredentialFile{Token: "file-token"},
			CredentialWorkloadIdentity, "environment variable NIMBUS_WORKLOAD_IDENTITY_TOKEN", "Bearer env-wi"},
		{"file token over token file", Config{}, env{EnvWorkloadIdentityTokenFile: tokenFile}, &CredentialFile{Token: "file-token"},
			CredentialToken, "credential file", "Bearer file-token"},
		{"file api key", Config{}, env{}, &CredentialFile{APIKey: "file-key"},
			CredentialAPIKey, "credential file", "key file-key"},
		{"file workload identity", Config{}, env{}, &CredentialFile{WorkloadIdentityToken: "file-wi"},
			CredentialWorkloadIdentity, "credential file", "Bearer file-wi"},
		{"token file before TFC_WORKLOAD_IDENTITY_TOKEN", Config{}, env{EnvWorkloadIdentityTokenFile: tokenFile, EnvTFCWorkloadIdentityToken: "tfc-wi"}, &CredentialFile{TenantID: "acc"},
			CredentialWorkloadIdentity, "token file " + tokenFile, "Bearer from-token-file"},
		{"NIMBUS_WORKLOAD_IDENTITY_TOKEN before TFC_WORKLOAD_IDENTITY_TOKEN", Config{}, env{EnvWorkloadIdentityToken: "env-wi", EnvTFCWorkloadIdentityToken: "tfc-wi"}, nil,
			CredentialWorkloadIdentity, "environment variable NIMBUS_WORKLOAD_IDENTITY_TOKEN", "Bearer env-wi"},
		{"file token before TFC_WORKLOAD_IDENTITY_TOKEN", Config{}, env{EnvTFCWorkloadIdentityToken: "tfc-wi"}, &CredentialFile{Token: "file-token"},
			CredentialToken, "credential file", "Bearer file-token"},
		{"TFC_WORKLOAD_IDENTITY_TOKEN last", Config{}, env{EnvTFCWorkloadIdentityToken: "tfc-wi"}, &CredentialFile{TenantID: "acc"},
			CredentialWorkloadIdentity, "environment variable TFC_WORKLOAD_IDENTITY_TOKEN", "Bearer tfc-wi"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if k := r.Header.Get(api.HeaderAPIKey); k != "" {
					if r.Header.Get("Authorization") != "" {
						t.Errorf("both an API key and an Authorization header were sent")
					}
					got = "key " + k
				} else {
					got = r.Header.Get("Authorization")
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"items":[]}`))
			}))
			defer srv.Close()
			cfg := tc.cfg
			cfg.Endpoint = srv.URL
			cfg.Getenv = tc.env.get
			cfg.HomeDir = home
			if tc.file != nil {
				cfg.CredentialsFile = writeCredFile(t, fileDir, tc.file)
			}
			c := mustNew(t, cfg)
			s := c.Settings()
			if s.CredentialKind != tc.wantKind || !strings.HasPrefix(s.CredentialSource, tc.wantSrc) {
				t.Fatalf("credential = %q from %q, want %q from %q…", s.CredentialKind, s.CredentialSource, tc.wantKind, tc.wantSrc)
			}
			if _, err := c.Tenants(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got != tc.wantHdr {
				t.Fatalf("credential header = %q, want %q", got, tc.wantHdr)
			}
			for _, secret := range []string{"opt-token", "opt-key", "opt-wi", "env-token", "env-bearer", "env-key", "env-wi", "file-token", "file-key", "file-wi", "from-token-file", "tfc-wi"} {
				if strings.Contains(fmt.Sprintf("%+v", s), secret) {
					t.Fatalf("Settings leaks a secret: %+v", s)
				}
			}
		})
	}
}

func TestDiscovery_TenantOrder(t *testing.T) {
	home := t.TempDir()
	writeDefaultCredFile(t, home, CredentialFile{TenantID: "fromfile"})
	c := mustNew(t, Config{TenantID: "fromoption", Getenv: env{EnvTenantID: "fromenv"}.get, HomeDir: home})
	if s := c.Settings(); s.TenantID != "fromoption" || s.TenantSource != `option "tenant_id"` {
		t.Fatalf("got %q from %q", s.TenantID, s.TenantSource)
	}
	c = mustNew(t, Config{Getenv: env{EnvTenantID: "fromenv"}.get, HomeDir: home})
	if s := c.Settings(); s.TenantID != "fromenv" || s.TenantSource != "environment variable NIMBUS_TENANT_ID" {
		t.Fatalf("got %q from %q", s.TenantID, s.TenantSource)
	}
	c = mustNew(t, Config{Getenv: env{}.get, HomeDir: home})
	if s := c.Settings(); s.TenantID != "fromfile" || !strings.HasPrefix(s.TenantSource, "credential file ") {
		t.Fatalf("got %q from %q", s.TenantID, s.TenantSource)
	}
}

func TestDiscovery_CredentialFilePathOrder(t *testing.T) {
	home := t.TempDir()
	writeDefaultCredFile(t, home, CredentialFile{Endpoint: "http://default:1"})
	envFile := writeCredFile(t, t.TempDir(), CredentialFile{Endpoint: "http://envpath:1"})
	optFile := writeCredFile(t, t.TempDir(), CredentialFile{Endpoint: "http://optpath:1"})

	c := mustNew(t, Config{CredentialsFile: optFile, Getenv: env{EnvApplicationCredentials: envFile}.get, HomeDir: home})
	if got := c.Settings().Endpoint; got != "http://optpath:1" {
		t.Fatalf("Config.CredentialsFile must win, got %q", got)
	}
	c = mustNew(t, Config{Getenv: env{EnvApplicationCredentials: envFile}.get, HomeDir: home})
	if got := c.Settings().Endpoint; got != "http://envpath:1" {
		t.Fatalf("NIMBUS_APPLICATION_CREDENTIALS must override the default path, got %q", got)
	}
	c = mustNew(t, Config{Getenv: env{}.get, HomeDir: home})
	if got := c.Settings().Endpoint; got != "http://default:1" {
		t.Fatalf("default path, got %q", got)
	}
	// The file is not read when nothing is missing.
	bad := writeCredFile(t, t.TempDir(), "{not json")
	c = mustNew(t, Config{Endpoint: "http://x:1", Token: "t", TenantID: "acc", CredentialsFile: bad})
	if c.Settings().CredentialsFile != "" {
		t.Fatalf("credential file consulted although every setting was given")
	}
}

func TestDiscovery_CredentialFileErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content, want string
	}{
		{"syntax", `{"token": "s3cret-value",`, "not valid"},
		{"unknown field", `{"tokn": "s3cret-value"}`, `unknown field "tokn"`},
		{"wrong type", `{"token": 42}`, `"token"`},
		{"two credentials", `{"token": "s3cret-value", "apiKey": "s3cret-value"}`, "more than one"},
		{"empty", ``, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeCredFile(t, dir, tc.content)
			_, err := New(Config{Getenv: env{EnvApplicationCredentials: p}.get, HomeDir: t.TempDir()})
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Setting != SettingCredentialsFile {
				t.Fatalf("want *ConfigError for the credentials file, got %v", err)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q must name the path and say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret-value") {
				t.Fatalf("error leaks the file's secret: %v", err)
			}
		})
	}
	// An explicit path that does not exist is an error; a missing default file is not.
	missing := filepath.Join(dir, "nope.json")
	_, err := New(Config{CredentialsFile: missing, Getenv: env{}.get, HomeDir: t.TempDir()})
	if !IsConfigError(err) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing explicit file: %v", err)
	}
	if _, err := New(isolated(t, nil)); err != nil {
		t.Fatalf("missing default file must not be an error: %v", err)
	}
}

func TestDiscovery_InvalidValues(t *testing.T) {
	for _, ep := range []string{"ftp://x", "localhost:8080", "http://user:pw@host:1", "http://", "http://h:1/?q=1"} {
		_, err := New(Config{Endpoint: ep, Getenv: env{}.get, HomeDir: t.TempDir()})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Setting != SettingEndpoint {
			t.Errorf("endpoint %q: want endpoint ConfigError, got %v", ep, err)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error leaks userinfo: %v", err)
		}
	}
	_, err := New(Config{TenantID: "Bad_Tenant", Getenv: env{}.get, HomeDir: t.TempDir()})
	if !IsConfigError(err) {
		t.Fatalf("invalid tenant: %v", err)
	}
	c := mustNew(t, Config{Endpoint: "http://h:1/v1/", Getenv: env{}.get, HomeDir: t.TempDir()})
	if c.Settings().Endpoint != "http://h:1" {
		t.Fatalf("trailing /v1 not trimmed: %q", c.Settings().Endpoint)
	}
}

// countingServer counts requests.
func countingServer(t *testing.T) (*httptest.Server, *int) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.WriteHeader(500)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestMissingSettingsFailFirstRequest(t *testing.T) {
	srv, n := countingServer(t)
	ctx := t.Context()

	// No endpoint: New succeeds, the first request names every way to set it.
	c := mustNew(t, Config{Token: "t", TenantID: "acc", Getenv: env{}.get, HomeDir: t.TempDir()})
	_, err := c.Services.Get(ctx, "worker")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Setting != SettingEndpoint {
		t.Fatalf("want endpoint ConfigError, got %v", err)
	}
	for _, want := range []string{`"endpoint" option`, EnvEndpoint, `"endpoint" in the credential file`, EnvApplicationCredentials} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("endpoint error %q does not mention %s", err, want)
		}
	}

	// No credential.
	c = mustNew(t, Config{Endpoint: srv.URL, TenantID: "acc", Getenv: env{}.get, HomeDir: t.TempDir()})
	_, err = c.Services.List(ctx, ListServicesOptions{})
	if !errors.As(err, &ce) || ce.Setting != SettingCredential {
		t.Fatalf("want credential ConfigError, got %v", err)
	}
	for _, want := range []string{`"token"`, `"api_key"`, `"workload_identity_token"`, EnvToken, EnvBearerToken, EnvAPIKey, EnvWorkloadIdentityToken, EnvApplicationCredentials, EnvWorkloadIdentityTokenFile, EnvTFCWorkloadIdentityToken, "application_default_credentials.json"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("credential error %q does not mention %s", err, want)
		}
	}

	// No tenant: fails before any request, even with endpoint and credential.
	c = mustNew(t, Config{Endpoint: srv.URL, Token: "t", Getenv: env{}.get, HomeDir: t.TempDir()})
	_, err = c.Sandboxes.List(ctx, ListSandboxesOptions{})
	if !errors.As(err, &ce) || ce.Setting != SettingTenant {
		t.Fatalf("want tenant ConfigError, got %v", err)
	}
	for _, want := range []string{`"tenant_id"`, EnvTenantID, `"tenantId"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("tenant error %q does not mention %s", err, want)
		}
	}
	if *n != 0 {
		t.Fatalf("%d requests were sent despite missing configuration", *n)
	}
	// A call that needs no tenant still works without one.
	if _, err := c.Tenants(ctx); IsConfigError(err) {
		t.Fatalf("Tenants needs no tenant: %v", err)
	}
}

func TestWorkloadIdentityTokenFileIsReread(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = w.Write([]byte(`{"items":[]}`))
	}))
	defer srv.Close()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, Config{Endpoint: srv.URL, Getenv: env{EnvWorkloadIdentityTokenFile: p}.get, HomeDir: t.TempDir()})
	ctx := t.Context()
	if _, err := c.Tenants(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tenants(ctx); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != "Bearer one" || seen[1] != "Bearer two" {
		t.Fatalf("headers = %q", seen)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	_, err := c.Tenants(ctx)
	if !IsConfigError(err) || !strings.Contains(err.Error(), p) {
		t.Fatalf("want ConfigError naming the token file, got %v", err)
	}
}

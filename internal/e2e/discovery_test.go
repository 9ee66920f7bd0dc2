package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestDiscoveryAgainstServer configures the client from each source in turn
// and proves the discovered credential is accepted by the real server, and
// that a higher-priority source wins over a lower one holding a bad value.
func TestDiscoveryAgainstServer(t *testing.T) {
	srv := testserver.Start(t, testserver.WithTenants("acc", "fromfile"))
	ctx := testfixtures.Context(t, time.Minute)
	dir := t.TempDir()
	writeFile := func(name string, v any) string {
		b, _ := json.Marshal(v)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := filepath.Join(dir, "wi-token")
	if err := os.WriteFile(tokenFile, []byte(srv.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := writeFile("good.json", client.CredentialFile{Endpoint: srv.URL, TenantID: "fromfile", APIKey: srv.APIKey})
	badCred := writeFile("bad.json", client.CredentialFile{Endpoint: "http://127.0.0.1:1", TenantID: "acc", Token: "wrong"})

	cases := []struct {
		name       string
		cfg        client.Config
		env        map[string]string
		wantTenant string
		wantKind   string
	}{
		{"options only", client.Config{Endpoint: srv.URL, Token: srv.Token, TenantID: "acc", CredentialsFile: badCred}, nil, "acc", client.CredentialToken},
		{"environment over file", client.Config{}, map[string]string{
			client.EnvEndpoint: srv.URL, client.EnvAPIKey: srv.APIKey, client.EnvTenantID: "acc", client.EnvApplicationCredentials: badCred}, "acc", client.CredentialAPIKey},
		{"bearer env", client.Config{}, map[string]string{
			client.EnvEndpoint: srv.URL, client.EnvBearerToken: srv.Token, client.EnvTenantID: "acc"}, "acc", client.CredentialToken},
		{"workload identity env", client.Config{}, map[string]string{
			client.EnvEndpoint: srv.URL, client.EnvWorkloadIdentityToken: srv.Token, client.EnvTenantID: "acc"}, "acc", client.CredentialWorkloadIdentity},
		{"credential file via env path", client.Config{}, map[string]string{client.EnvApplicationCredentials: good}, "fromfile", client.CredentialAPIKey},
		{"credential file via option", client.Config{CredentialsFile: good}, map[string]string{client.EnvApplicationCredentials: badCred}, "fromfile", client.CredentialAPIKey},
		{"token file last", client.Config{Endpoint: srv.URL, TenantID: "acc"}, map[string]string{client.EnvWorkloadIdentityTokenFile: tokenFile}, "acc", client.CredentialWorkloadIdentity},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Getenv = testfixtures.Env(tc.env)
			c := testfixtures.Client(t, cfg)
			s := c.Settings()
			if s.TenantID != tc.wantTenant || s.CredentialKind != tc.wantKind {
				t.Fatalf("settings %+v", s)
			}
			if _, err := c.Services.List(ctx, client.ListServicesOptions{}); err != nil {
				t.Fatalf("discovered configuration rejected: %v", err)
			}
		})
	}
	// The default file under the home directory.
	home := t.TempDir()
	p := filepath.Join(home, ".config", "nimbus", "application_default_credentials.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(client.CredentialFile{Endpoint: srv.URL, TenantID: "acc", Token: srv.Token})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c := testfixtures.Client(t, client.Config{HomeDir: home})
	if _, err := c.Services.List(ctx, client.ListServicesOptions{}); err != nil {
		t.Fatalf("default credential file: %v", err)
	}
}

package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// clearNimbusEnv unsets every variable and credential file the provider
// could discover, so a test sees only what it configures. (t.Setenv: these
// tests cannot run in parallel.)
func clearNimbusEnv(t *testing.T) {
	for _, k := range []string{"NIMBUS_ENDPOINT", "NIMBUS_TOKEN", "NIMBUS_BEARER_TOKEN", "NIMBUS_API_KEY",
		"NIMBUS_WORKLOAD_IDENTITY_TOKEN", "NIMBUS_WORKLOAD_IDENTITY_TOKEN_FILE", "NIMBUS_APPLICATION_CREDENTIALS", "NIMBUS_TENANT_ID",
		"TFC_WORKLOAD_IDENTITY_TOKEN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", t.TempDir())
}

func builtInConfig(name string) string {
	return fmt.Sprintf(`
resource "nimbus_service" "test" {
  name     = %q
  built_in = { provider = "serviceDiscovery" }
}`, name)
}

// TestAccProvider_envOnly: an empty provider block configured entirely by
// environment variables (the HCP Terraform way).
func TestAccProvider_envOnly(t *testing.T) {
	env := newTestServer(t)
	clearNimbusEnv(t)
	t.Setenv("NIMBUS_ENDPOINT", env.Endpoint)
	t.Setenv("NIMBUS_TOKEN", env.Token)
	t.Setenv("NIMBUS_TENANT_ID", env.Tenant)
	name := testAccName("env")
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: `provider "nimbus" {}` + builtInConfig(name),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "tenant_id", knownvalue.StringExact(env.Tenant)),
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
				},
			},
			{
				// A workload-identity token from the environment (sent as a
				// bearer token); the refresh proves it is accepted.
				PreConfig: func() {
					t.Setenv("NIMBUS_TOKEN", "")
					t.Setenv("NIMBUS_WORKLOAD_IDENTITY_TOKEN", env.Token)
				},
				Config:   `provider "nimbus" {}` + builtInConfig(name),
				PlanOnly: true,
			},
			{
				// An API key in the provider block.
				PreConfig: func() { t.Setenv("NIMBUS_WORKLOAD_IDENTITY_TOKEN", "") },
				Config:    fmt.Sprintf("provider \"nimbus\" {\n  api_key = %q\n}\n", env.APIKey) + builtInConfig(name),
				PlanOnly:  true,
			},
		},
	})
}

// TestAccProvider_credentialsFile: everything from a credential file named
// by credentials_file.
func TestAccProvider_credentialsFile(t *testing.T) {
	env := newTestServer(t)
	clearNimbusEnv(t)
	dir := t.TempDir()
	b, _ := json.Marshal(map[string]string{"endpoint": env.Endpoint, "tenantId": env.Tenant, "token": env.Token})
	file := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	name := testAccName("cred")
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf("provider \"nimbus\" {\n  credentials_file = %q\n}\n", file) + builtInConfig(name),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "tenant_id", knownvalue.StringExact(env.Tenant)),
				},
			},
			{
				// The default location under the home directory works too.
				PreConfig: func() {
					p := filepath.Join(os.Getenv("HOME"), ".config", "nimbus", "application_default_credentials.json")
					if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, b, 0o600); err != nil {
						t.Fatal(err)
					}
				},
				Config:   `provider "nimbus" {}` + builtInConfig(name),
				PlanOnly: true,
			},
		},
	})
}

// TestAccProvider_missingSettings: missing endpoint and missing credential
// fail with diagnostics naming the attributes and variables to set; a wrong
// token fails with the authentication error.
func TestAccProvider_missingSettings(t *testing.T) {
	env := newTestServer(t)
	clearNimbusEnv(t)
	name := testAccName("miss")
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config:      fmt.Sprintf("provider \"nimbus\" {\n  token = %q\n  tenant_id = %q\n}\n", env.Token, env.Tenant) + builtInConfig(name),
				ExpectError: regexp.MustCompile(`(?s)endpoint.*NIMBUS_ENDPOINT`),
			},
			{
				Config:      fmt.Sprintf("provider \"nimbus\" {\n  endpoint = %q\n  tenant_id = %q\n}\n", env.Endpoint, env.Tenant) + builtInConfig(name),
				ExpectError: regexp.MustCompile(`(?s)credential.*NIMBUS_TOKEN`),
			},
			{
				Config: fmt.Sprintf("provider \"nimbus\" {\n  endpoint = %q\n  tenant_id = %q\n  token = \"wrong-token\"\n}\n",
					env.Endpoint, env.Tenant) + builtInConfig(name),
				ExpectError: regexp.MustCompile(`Nimbus authentication failed`),
			},
		},
	})
}

// TestProviderData_unknownConfig: values unknown at configure time are not
// silently replaced by discovery; the first use names what to set.
func TestProviderData_unknownConfig(t *testing.T) {
	pd := &providerData{unknown: []string{"endpoint", "token"}}
	var diags diag.Diagnostics
	if c := clientFor(t.Context(), pd, &diags); c != nil {
		t.Fatal("expected no client")
	}
	if !diags.HasError() {
		t.Fatal("expected an error")
	}
	d := diags.Errors()[0].Detail()
	for _, want := range []string{"`endpoint`", "NIMBUS_ENDPOINT", "`token`", "NIMBUS_TOKEN", "not fall back"} {
		if !strings.Contains(d, want) {
			t.Errorf("detail lacks %q: %s", want, d)
		}
	}
}

// TestAccProvider_unknownConfig: a provider endpoint only known after apply
// makes the refresh fail with a diagnostic naming what to set, instead of
// silently using another endpoint.
func TestAccProvider_unknownConfig(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	name := testAccName("unk")
	provider := func(input string) string {
		return fmt.Sprintf(`
resource "terraform_data" "ep" {
  input = %q
}
provider "nimbus" {
  endpoint  = terraform_data.ep.output
  tenant_id = %q
  token     = %q
}
`, input, env.Tenant, env.Token)
	}
	accTest(t, resource.TestCase{
		CheckDestroy: checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			// Known at apply: the service is created against that endpoint.
			{Config: provider(env.Endpoint) + builtInConfig(name)},
			// Unknown during the plan's refresh: a clear error.
			{
				Config:      provider(env.Endpoint+"/") + builtInConfig(name),
				ExpectError: regexp.MustCompile(`(?s)configuration is not known yet.*endpoint.*NIMBUS_ENDPOINT`),
			},
			{Config: provider(env.Endpoint) + builtInConfig(name)},
		},
	})
}

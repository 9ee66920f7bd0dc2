// Tests of the module-testing guide's example: `terraform test` of
// examples/modules/web-service, run through the shared CLI harness
// internal/testcli, once against a Nimbus server and once with only its
// mock_provider tests and no server.

package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testcli"
)

// webServiceModule is the example module, relative to this package.
const webServiceModule = "../../examples/modules/web-service"

// minMockProviderVersion is the first Terraform with mock_provider in test
// files (1.7); OpenTofu has had it since 1.8, so every supported CLI runs
// these tests (Terraform 1.8.5 and 1.16, OpenTofu 1.12).
var minMockProviderVersion = version.Must(version.NewVersion("1.7.0"))

// newModuleCLI copies the example module into a fresh working directory and
// runs `init` there. The module names its provider nimbus/nimbus (as users
// write it), so that is the address the provider is served under; the
// module's own required_providers block stays the only one.
func newModuleCLI(t *testing.T) *testcli.CLI {
	t.Helper()
	cli := testcli.New(t, testcli.Options{
		Providers: map[string]testcli.ProviderFactory{
			"nimbus/nimbus": providerserver.NewProtocol6WithError(New("test")()),
		},
		NoRequiredProviders: true,
	})
	if info := cli.Info(); !info.OpenTofu() && info.Version.LessThan(minMockProviderVersion) {
		t.Skipf("Terraform %s has no mock_provider in terraform test (1.7+)", info.Version)
	}
	cli.CopyDir(webServiceModule)
	cli.MustRun("init", "-no-color")
	return cli
}

// testSummary matches the last line of `terraform test` / `tofu test`:
// "Success! 6 passed, 0 failed."
var testSummary = regexp.MustCompile(`(?m)^Success! (\d+) passed, 0 failed\.`)

func wantPassed(t *testing.T, out, want string) {
	t.Helper()
	m := testSummary.FindStringSubmatch(out)
	if len(m) != 2 || m[1] != want {
		t.Fatalf("terraform test did not pass %s run blocks:\n%s", want, out)
	}
}

// TestAccModule_webServiceTest runs the example module's server-backed tests
// (tests/server) against the in-process Nimbus server: their run blocks
// plan, create, change and check real services, and terraform test destroys
// them at the end. The provider is configured the way the guide tells users
// to, by NIMBUS_ENDPOINT, NIMBUS_TENANT_ID and NIMBUS_TOKEN (`server --dev`
// prints them); the provider runs inside this test process, so they are set
// here, not in the CLI's environment.
func TestAccModule_webServiceTest(t *testing.T) {
	env := newTestServer(t)
	c := env.Client(t)
	t.Setenv("NIMBUS_ENDPOINT", env.Endpoint)
	t.Setenv("NIMBUS_TENANT_ID", env.Tenant)
	t.Setenv("NIMBUS_TOKEN", env.Token)
	t.Setenv("NIMBUS_API_KEY", env.APIKey)
	cli := newModuleCLI(t)

	out := cli.MustRun("test", "-no-color", "-test-directory=tests/server")
	wantPassed(t, out, "3")
	for _, re := range []string{
		`run "plan_names_and_labels"\.\.\. pass`,
		`run "creates_a_ready_web_service"\.\.\. pass`,
		`run "removes_the_load_balancer"\.\.\. pass`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("terraform test output does not match %q:\n%s", re, out)
		}
	}
	// terraform test destroys what its run blocks created.
	for _, name := range []string{"tftest-web", "tftest-web-lb"} {
		if _, err := c.Services.Get(t.Context(), name); !client.IsNotFound(err) {
			t.Errorf("after terraform test, get service %s: %v, want not found", name, err)
		}
	}
}

// TestAccModule_webServiceMock runs a plain `terraform test` of the example
// module: only its mock_provider tests in tests/, with the provider pointed
// at an address where no server listens. They pass without one, because a
// mocked provider makes no API calls.
func TestAccModule_webServiceMock(t *testing.T) {
	t.Setenv("NIMBUS_ENDPOINT", "http://127.0.0.1:9") // discard port: nothing answers
	t.Setenv("NIMBUS_TENANT_ID", "nobody")
	t.Setenv("NIMBUS_TOKEN", "not-a-real-token-0123456789")
	t.Setenv("NIMBUS_API_KEY", "")
	cli := newModuleCLI(t)

	out := cli.MustRun("test", "-no-color")
	wantPassed(t, out, "3")
	for _, re := range []string{
		`mock\.tftest\.hcl\.\.\. .*pass`,
		`mock_override\.tftest\.hcl\.\.\. .*pass`,
		`run "rejects_an_invalid_name"\.\.\. pass`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("terraform test output does not match %q:\n%s", re, out)
		}
	}
	if strings.Contains(out, "web_service.tftest.hcl") {
		t.Errorf("a plain terraform test ran the server-backed tests too:\n%s", out)
	}
}

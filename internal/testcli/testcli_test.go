package testcli_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/provider"
	"github.com/nimbus/terraform-provider-nimbus/internal/testcli"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

var nimbus = map[string]testcli.ProviderFactory{
	"hashicorp/nimbus": providerserver.NewProtocol6WithError(provider.New("test")()),
}

// TestAccCLI_version runs `version` and checks that Identify reads the same
// product and version from it.
func TestAccCLI_version(t *testing.T) {
	cli := testcli.New(t, testcli.Options{})
	out := cli.MustRun("version")
	info := cli.Info()
	want := fmt.Sprintf("%s v%s", info.Product, info.Version)
	if !strings.Contains(out, want) {
		t.Fatalf("version output does not contain %q:\n%s", want, out)
	}
	if info.OpenTofu() != strings.HasPrefix(out, "OpenTofu") {
		t.Fatalf("Identify says OpenTofu=%v for:\n%s", info.OpenTofu(), out)
	}
}

// builtInServiceConfig is a provider block for srv and a built-in service
// nimbus_service.lb called name.
func builtInServiceConfig(srv *testserver.Server, name string) string {
	return fmt.Sprintf(`
provider "nimbus" {
  endpoint  = %q
  tenant_id = %q
  token     = %q
}

resource "nimbus_service" "lb" {
  name = %q
  built_in = {
    provider = "loadBalancer"
  }
}
`, srv.URL, srv.Tenant, srv.Token, name)
}

// TestAccCLI_applyBuiltInService runs init, apply, plan and destroy of a
// built-in service with the provider served in-process, against the
// in-process Nimbus server.
func TestAccCLI_applyBuiltInService(t *testing.T) {
	srv := testserver.Start(t)
	cli := testcli.New(t, testcli.Options{Providers: nimbus})
	cli.WriteFile("main.tf", builtInServiceConfig(srv, "testcli-lb"))

	cli.MustRun("init", "-no-color")
	cli.MustRun("apply", "-auto-approve", "-no-color")

	c := testfixtures.ServerClient(t, srv)
	s, err := c.Services.Get(t.Context(), "testcli-lb")
	if err != nil {
		t.Fatalf("the applied service is not on the server: %v", err)
	}
	if s.Status.LifecycleState != api.ServiceRunning {
		t.Fatalf("service state %q, want %q", s.Status.LifecycleState, api.ServiceRunning)
	}

	// -detailed-exitcode: 0 means no changes, 2 changes.
	stdout, stderr, err := cli.Run("plan", "-detailed-exitcode", "-no-color")
	if err != nil {
		t.Fatalf("the plan after apply is not empty: %v\n%s\n%s", err, stdout, stderr)
	}

	cli.MustRun("destroy", "-auto-approve", "-no-color")
	if _, err := c.Services.Get(t.Context(), "testcli-lb"); !client.IsNotFound(err) {
		t.Fatalf("after destroy, get service: %v, want not found", err)
	}
}

// TestAccCLI_failureIsReported checks that a failing command returns an
// *exec.ExitError and its diagnostics on stderr.
func TestAccCLI_failureIsReported(t *testing.T) {
	cli := testcli.New(t, testcli.Options{Providers: nimbus})
	cli.WriteFile("main.tf", `resource "nimbus_service" "x" {}`+"\n")
	cli.MustRun("init", "-no-color")
	_, stderr, err := cli.Run("validate", "-no-color")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("validate of an invalid configuration: err = %v, want exit status 1", err)
	}
	if !strings.Contains(stderr, `"name" is required`) {
		t.Fatalf("stderr does not name the missing argument:\n%s", stderr)
	}
}

// TestAccCLI_terraformTest runs `terraform test` (a run block that applies,
// asserts and destroys) with the provider served in-process.
func TestAccCLI_terraformTest(t *testing.T) {
	srv := testserver.Start(t)
	cli := testcli.New(t, testcli.Options{Providers: nimbus})
	cli.WriteFile("main.tf", builtInServiceConfig(srv, "testcli-tftest"))
	cli.WriteFile("tests/service.tftest.hcl", `
run "service_runs" {
  assert {
    condition     = nimbus_service.lb.lifecycle_state == "running"
    error_message = "the service is not running"
  }
}
`)
	cli.MustRun("init", "-no-color")
	out := cli.MustRun("test", "-no-color")
	if !strings.Contains(out, "1 passed, 0 failed") {
		t.Fatalf("terraform test did not pass its run block:\n%s", out)
	}
	// terraform test destroys what its run blocks created.
	if _, err := testfixtures.ServerClient(t, srv).Services.Get(t.Context(), "testcli-tftest"); !client.IsNotFound(err) {
		t.Fatalf("after terraform test, get service: %v, want not found", err)
	}
}

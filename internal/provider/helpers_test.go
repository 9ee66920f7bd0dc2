package provider

// What the acceptance tests share besides the harness (provider_test.go)
// and the checks (checks_test.go): the CLI feature gates, the objects they
// create through the client (built with internal/testfixtures), out-of-band
// changes, and knobs such as the page size.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/testcli"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// minWriteOnlyVersion is the first CLI version (Terraform and OpenTofu alike)
// with write-only attributes and ephemeral resources in the test framework's
// version numbering: Terraform 1.8.5 is skipped, OpenTofu 1.12.6 runs.
var minWriteOnlyVersion = version.Must(version.NewVersion("1.11.0"))

// skipBelowWriteOnly skips a test on CLIs without write-only attributes and
// ephemeral resources (runs on Terraform 1.11+, so 1.16, and OpenTofu 1.12).
var skipBelowWriteOnly = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(minWriteOnlyVersion)}

// Gates for the features of newer CLIs. What runs where (README
// "Compatibility"): Terraform 1.8.5 none of them; OpenTofu 1.12.6 identity;
// Terraform 1.16.4 all.
var (
	// skipBelowIdentity skips a test on CLIs without resource identity
	// (Terraform < 1.12; OpenTofu has it from 1.12, in its own numbering).
	skipBelowIdentity = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)}

	// skipUnlessListResources runs a test only on Terraform >= 1.14: list
	// resources and `terraform query` (Query: true steps). OpenTofu has
	// neither, whatever its version number.
	skipUnlessListResources = []tfversion.TerraformVersionCheck{
		skipOpenTofu{feature: "list resources and query"},
		tfversion.SkipBelow(tfversion.Version1_14_0),
	}

	// skipUnlessActions runs a test only on Terraform >= 1.14: actions
	// (action blocks, action_trigger, apply -invoke). OpenTofu has none.
	skipUnlessActions = []tfversion.TerraformVersionCheck{
		skipOpenTofu{feature: "actions"},
		tfversion.SkipBelow(tfversion.Version1_14_0),
	}
)

// skipOpenTofu is a version check skipping the test when the CLI under test
// is OpenTofu. terraform-plugin-testing only hands checks the version
// number, so it asks the binary (TF_ACC_TERRAFORM_PATH) what it is, through
// the shared CLI harness.
type skipOpenTofu struct{ feature string }

func (s skipOpenTofu) CheckTerraformVersion(_ context.Context, _ tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	info, err := testcli.Identify("")
	if err != nil {
		resp.Error = fmt.Errorf("which CLI runs the test: %w", err)
		return
	}
	if info.OpenTofu() {
		resp.Skip = fmt.Sprintf("OpenTofu %s has no %s: skipping test", info.Version, s.feature)
	}
}

// withFakeClock runs the test server on a fake clock the test moves.
func withFakeClock(fake *clock.Fake) func(*testserver.Options) {
	return func(o *testserver.Options) { o.Clock = fake }
}

// fixtureSandbox is the standalone sandbox the data source, list, identity
// and action tests create through the client (display name "fixture", two
// argv entries, no environment).
func fixtureSandbox(labels map[string]string) api.CreateSandboxRequest {
	return testfixtures.StandaloneSandbox("fixture", "docker.io/library/alpine:3", []string{"sleep", "infinity"}, nil, labels)
}

// fixtureService is the built-in load balancer the tests create through the
// client.
func fixtureService(name string) api.CreateServiceRequest {
	return testfixtures.BuiltInService(name, api.ProviderLoadBalancer, nil)
}

// updateServiceOutOfBand changes the service through the Go client at its
// current generation, as someone working outside Terraform would.
func updateServiceOutOfBand(ctx context.Context, c *client.Client, name string, req api.UpdateServiceRequest) error {
	svc, err := c.Services.Get(ctx, name)
	if err != nil {
		return err
	}
	req.IfMatchGeneration = &svc.Metadata.Generation
	_, err = c.Services.Update(ctx, name, req)
	return err
}

// smallPages makes the list data sources ask for pageSize items per page for
// the rest of the test.
func smallPages(t *testing.T, pageSize int) {
	prev := listPageSize
	listPageSize = pageSize
	t.Cleanup(func() { listPageSize = prev })
}

// TestFeatureGates checks which CLI each gate lets a test run on, with
// stand-in CLIs that print what Terraform and OpenTofu print for `version`.
func TestFeatureGates(t *testing.T) {
	gates := map[string][]tfversion.TerraformVersionCheck{
		"write-only": skipBelowWriteOnly,
		"identity":   skipBelowIdentity,
		"list":       skipUnlessListResources,
		"actions":    skipUnlessActions,
	}
	cases := []struct {
		cli  string // first line of `version`
		runs []string
	}{
		{"Terraform v1.8.5", nil},
		{"Terraform v1.11.4", []string{"write-only"}},
		{"Terraform v1.16.4", []string{"write-only", "identity", "list", "actions"}},
		{"OpenTofu v1.12.6", []string{"write-only", "identity"}},
		// A version number past Terraform's 1.14 does not make OpenTofu run them.
		{"OpenTofu v1.14.0", []string{"write-only", "identity"}},
	}
	for _, tc := range cases {
		t.Run(tc.cli, func(t *testing.T) {
			cli := filepath.Join(t.TempDir(), "cli")
			script := "#!/bin/sh\necho '" + tc.cli + "'\necho 'on linux_amd64'\n"
			if err := os.WriteFile(cli, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("TF_ACC_TERRAFORM_PATH", cli)
			v := version.Must(version.NewVersion(strings.TrimPrefix(strings.Fields(tc.cli)[1], "v")))
			for name, checks := range gates {
				skipped := ""
				for _, c := range checks {
					var resp tfversion.CheckTerraformVersionResponse
					c.CheckTerraformVersion(t.Context(), tfversion.CheckTerraformVersionRequest{TerraformVersion: v}, &resp)
					if resp.Error != nil {
						t.Fatalf("%s: %v", name, resp.Error)
					}
					if resp.Skip != "" {
						skipped = resp.Skip
						break
					}
				}
				wantRun := slices.Contains(tc.runs, name)
				if wantRun && skipped != "" {
					t.Errorf("%s skipped on %s (%s), want it to run", name, tc.cli, skipped)
				}
				if !wantRun && skipped == "" {
					t.Errorf("%s runs on %s, want it skipped", name, tc.cli)
				}
			}
		})
	}
}

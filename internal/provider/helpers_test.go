package provider

// Test helpers for the sandbox and session acceptance tests, on top of the
// shared harness in provider_test.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/testcli"
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

// captureAttr stores a resource attribute into *dst (for PreConfig steps that
// act on the object through the client).
func captureAttr(name, key string, dst *string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[name]
		if !ok {
			return fmt.Errorf("%s not in state", name)
		}
		v, ok := rs.Primary.Attributes[key]
		if !ok {
			return fmt.Errorf("%s has no %s", name, key)
		}
		*dst = v
		return nil
	}
}

// attrDiffers fails when the attribute equals *old (a replacement happened).
func attrDiffers(name, key string, old *string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[name]
		if !ok {
			return fmt.Errorf("%s not in state", name)
		}
		if v := rs.Primary.Attributes[key]; v == *old {
			return fmt.Errorf("%s.%s is still %q; expected a new object", name, key, v)
		}
		return nil
	}
}

// stateNeverContains is a state check failing when secret appears anywhere
// in the state (values, sensitive values, nested attributes).
type stateNeverContains struct{ secret string }

func (c stateNeverContains) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	b, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(b), c.secret) {
		resp.Error = fmt.Errorf("the state contains the write-only secret")
	}
}

// isolateWorkDirs points the test framework's working directories (and so
// the CLI's state files) at a directory of this test's own.
func isolateWorkDirs(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("TF_ACC_TEMP_DIR", dir)
	return dir
}

// stateFileNeverContains fails when secret appears in any *.tfstate file
// under dir (from isolateWorkDirs): belt and braces beside the JSON state
// check, it reads the raw files the CLI wrote.
func stateFileNeverContains(dir, secret string) func(*terraform.State) error {
	return func(*terraform.State) error {
		seen := 0
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(p, ".tfstate") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			seen++
			if strings.Contains(string(b), secret) {
				return fmt.Errorf("state file %s contains the write-only secret", p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if seen == 0 {
			return fmt.Errorf("no state file found under %s", dir)
		}
		return nil
	}
}

// createRunningService creates a built-in service through the client and
// waits until it is ready.
func createRunningService(t *testing.T, c *client.Client, name string) *api.Service {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Services.Create(ctx, api.CreateServiceRequest{
		Name:    name,
		Backend: api.Backend{Kind: api.BackendKindBuiltIn, Provider: api.ProviderLoadBalancer},
	}); err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
	s, err := c.Services.Start(ctx, name, client.ActionOptions{WaitUntil: api.WaitReady, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("start service %s: %v", name, err)
	}
	return s
}

// checkSandboxesGone is a CheckDestroy: every nimbus_sandbox in the state is
// gone from the server.
func checkSandboxesGone(c *client.Client) func(*terraform.State) error {
	return func(s *terraform.State) error {
		for name, rs := range s.RootModule().Resources {
			if rs.Type != "nimbus_sandbox" {
				continue
			}
			_, err := c.Sandboxes.Get(context.Background(), rs.Primary.ID)
			if err == nil {
				return fmt.Errorf("%s (%s) still exists after destroy", name, rs.Primary.ID)
			}
			if !client.IsNotFound(err) {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil
	}
}

// checkSessionsClosed is a CheckDestroy: every nimbus_session in the state
// is closed on the server with Terraform's reason.
func checkSessionsClosed(c *client.Client) func(*terraform.State) error {
	return func(s *terraform.State) error {
		for name, rs := range s.RootModule().Resources {
			if rs.Type != "nimbus_session" {
				continue
			}
			ses, err := c.Sessions.Get(context.Background(), rs.Primary.ID)
			if client.IsNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if ses.Status.LifecycleState == api.SessionOpen {
				return fmt.Errorf("%s (%s) is still open after destroy", name, rs.Primary.ID)
			}
		}
		return nil
	}
}

// createRunningSandbox creates a standalone sandbox through the client and
// waits until it runs.
func createRunningSandbox(t *testing.T, c *client.Client, labels map[string]string) *api.Sandbox {
	t.Helper()
	ctx := context.Background()
	sb, err := c.Sandboxes.Create(ctx, api.CreateSandboxRequest{
		Profile: api.ProfileWorker,
		Spec: api.SandboxSpec{
			Owner:   api.Owner{Kind: api.OwnerKindStandalone, DisplayName: "fixture"},
			Backend: api.RuntimeContainer,
			Root:    api.Root{Kind: api.RootKindOCIImage, Source: api.RootSource{Kind: api.SourceKindReference, Reference: "docker.io/library/alpine:3"}},
			Process: api.Process{Argv: api.RedactableList{Values: []string{"sleep", "infinity"}}},
		},
		Labels: labels,
	})
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	sb, err = c.Sandboxes.Wait(ctx, sb.Metadata.ID, client.WaitOptions{Until: api.WaitRunning, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("wait for sandbox: %v", err)
	}
	return sb
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
					c.CheckTerraformVersion(context.Background(), tfversion.CheckTerraformVersionRequest{TerraformVersion: v}, &resp)
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

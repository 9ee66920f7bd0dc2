package provider

// Version gates for the features of newer CLIs used by the identity, list
// resource and action tests. TEMPORARY: the toolchain branch adds the same
// gates (same names) to helpers_test.go with its shared CLI harness; when
// both are merged, delete this file.

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

var (
	// skipBelowIdentity skips a test on CLIs without resource identity
	// (Terraform < 1.12; OpenTofu has it from 1.12).
	skipBelowIdentity = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)}

	// skipUnlessListResources runs a test only on Terraform >= 1.14 (list
	// resources, `terraform query`); OpenTofu has neither.
	skipUnlessListResources = []tfversion.TerraformVersionCheck{
		skipOpenTofu{feature: "list resources and query"},
		tfversion.SkipBelow(tfversion.Version1_14_0),
	}

	// skipUnlessActions runs a test only on Terraform >= 1.14 (actions);
	// OpenTofu has none.
	skipUnlessActions = []tfversion.TerraformVersionCheck{
		skipOpenTofu{feature: "actions"},
		tfversion.SkipBelow(tfversion.Version1_14_0),
	}
)

// skipOpenTofu skips the test when the CLI under test (TF_ACC_TERRAFORM_PATH)
// is OpenTofu: plugin-testing only hands version checks the version number.
type skipOpenTofu struct{ feature string }

var cliIsOpenTofu = sync.OnceValues(func() (bool, error) {
	out, err := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), "version").Output()
	return strings.HasPrefix(strings.TrimSpace(string(out)), "OpenTofu"), err
})

func (s skipOpenTofu) CheckTerraformVersion(_ context.Context, _ tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	tofu, err := cliIsOpenTofu()
	if err != nil {
		resp.Error = err
		return
	}
	if tofu {
		resp.Skip = "OpenTofu has no " + s.feature + ": skipping test"
	}
}

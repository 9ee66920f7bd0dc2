package testcli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	cases := []struct {
		out, product, version string
	}{
		{"Terraform v1.16.4\non linux_amd64\n", ProductTerraform, "1.16.4"},
		{"Terraform v1.8.5\non linux_amd64\n\nYour version of Terraform is out of date!\n", ProductTerraform, "1.8.5"},
		// OpenTofu prints CLI-configuration warnings on stdout first.
		{"There are some problems with the CLI configuration:\n\nWarning: Unable to open CLI configuration file\n\nOpenTofu v1.12.6\non linux_amd64\n", ProductOpenTofu, "1.12.6"},
		{"Terraform v1.17.0-dev\n", ProductTerraform, "1.17.0-dev"},
	}
	for _, tc := range cases {
		info, err := parseVersion(strings.NewReader(tc.out))
		if err != nil {
			t.Fatalf("%q: %v", tc.out, err)
		}
		if info.Product != tc.product || info.Version.String() != tc.version {
			t.Errorf("%q: got %s %s, want %s %s", tc.out, info.Product, info.Version, tc.product, tc.version)
		}
		if info.OpenTofu() != (tc.product == ProductOpenTofu) {
			t.Errorf("%q: OpenTofu() = %v", tc.out, info.OpenTofu())
		}
	}
	if _, err := parseVersion(strings.NewReader("something else v1\n")); err == nil {
		t.Error("no error for output without a version line")
	}
}

func TestCopyDir(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for name, content := range map[string]string{
		"main.tf":                    "# main\n",
		"tests/a.tftest.hcl":         "# test\n",
		".terraform/providers/x":     "skip",
		".terraform.lock.hcl":        "skip",
		"terraform.tfstate":          "skip",
		"terraform.tfstate.backup":   "skip",
		"modules/child/variables.tf": "# child\n",
	} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := copyDir(dst, src); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"main.tf", "modules/child/variables.tf", "tests/a.tftest.hcl"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("copied %v, want %v", got, want)
	}
}

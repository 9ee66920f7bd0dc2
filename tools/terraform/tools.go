//go:build tools

// Package tools pins the newest Terraform CLI (bin/terraform-1.16) that
// acceptance tests, `make docs` and the demo run. This wrapper module exists
// because Terraform 1.13+ cannot be installed with `go install module@version`:
// its go.mod replaces nine remote-state backend modules and internal/legacy
// with directories that the module zip leaves out. go.mod replaces the backends
// with the stubs under backends/ (none of them is needed to test a provider;
// the local, http, inmem, remote and cloud backends stay real) and
// internal/legacy with its own module on the proxy. Build it with `make tools`.
package tools

import _ "github.com/hashicorp/terraform"

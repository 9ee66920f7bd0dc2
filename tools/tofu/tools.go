//go:build tools

// Package tools pins the OpenTofu CLI that acceptance tests and `make docs`
// run. This wrapper module exists because OpenTofu cannot be installed with
// `go install module@version` (its go.mod has replace directives); the
// replace for hcl/v2 in go.mod is OpenTofu's own. Build it with `make tools`.
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"

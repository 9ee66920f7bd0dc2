// Package docscheck holds the repository's documentation and release checks
// that need no CLI, as tests: every schema attribute is described; every
// resource, data source and ephemeral resource has its examples, its own
// template and a generated page; and the release configuration has the shape
// the Terraform Registry expects. The freshness of docs/ itself is checked by
// `make docs-check` (scripts/docs.sh), which needs the OpenTofu CLI.
package docscheck

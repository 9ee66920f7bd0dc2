// Package oss stands in for Terraform's "oss" remote-state backend, which is
// not on the Go module proxy. Every operation fails with a clear diagnostic;
// see tools/terraform/tools.go.
package oss

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/configs/configschema"
	"github.com/hashicorp/terraform/internal/states/statemgr"
	"github.com/hashicorp/terraform/internal/tfdiags"
)

// New returns the stub backend.
func New() backend.Backend { return stub{} }

type stub struct{}

func unavailable() tfdiags.Diagnostics {
	var diags tfdiags.Diagnostics
	return diags.Append(tfdiags.Sourceless(tfdiags.Error,
		"Backend not included in this build",
		`The "oss" backend is not included in this build of Terraform (bin/terraform-1.16 from tools/terraform, made to test terraform-provider-nimbus). Use the local backend, or an official Terraform release.`))
}

func (stub) ConfigSchema() *configschema.Block { return &configschema.Block{} }

func (stub) PrepareConfig(v cty.Value) (cty.Value, tfdiags.Diagnostics) { return v, unavailable() }

func (stub) Configure(cty.Value) tfdiags.Diagnostics { return unavailable() }

func (stub) StateMgr(string) (statemgr.Full, tfdiags.Diagnostics) { return nil, unavailable() }

func (stub) DeleteWorkspace(string, bool) tfdiags.Diagnostics { return unavailable() }

func (stub) Workspaces() ([]string, tfdiags.Diagnostics) { return nil, unavailable() }

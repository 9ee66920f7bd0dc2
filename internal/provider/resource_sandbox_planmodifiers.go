package provider

import (
	"context"
	"encoding/json"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
)

// defaultSandboxTimeout bounds create (until running) and delete (stop, wait,
// delete) when no timeouts block says otherwise.
const defaultSandboxTimeout = 10 * time.Minute

var noWhitespace = regexp.MustCompile(`^\S+$`)

// privateGetter is the part of private state plan modifiers see.
type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

// adoptLaunchInput reports whether a configured launch input may be adopted
// into state without replacing the sandbox: only right after an import
// (state holds null because the API never returns the values), and only
// when the configured number of values matches what the server reports.
func adoptLaunchInput(ctx context.Context, p privateGetter, stateNull bool, configCount int, pick func(launchCounts) int) (bool, diag.Diagnostics) {
	if !stateNull || p == nil {
		return false, nil
	}
	imported, diags := p.GetKey(ctx, privateImported)
	if diags.HasError() || len(imported) == 0 {
		return false, diags
	}
	raw, d := p.GetKey(ctx, privateLaunchCounts)
	diags.Append(d...)
	if diags.HasError() || len(raw) == 0 {
		return false, diags
	}
	var lc launchCounts
	if err := json.Unmarshal(raw, &lc); err != nil {
		diags.AddError("Corrupt private state", "Could not decode the sandbox's recorded launch input counts: "+err.Error()+
			". Run `terraform apply -refresh-only` to refresh them.")
		return false, diags
	}
	return pick(lc) == configCount, diags
}

func launchInputReplaceList(ctx context.Context, req planmodifier.ListRequest, resp *listplanmodifier.RequiresReplaceIfFuncResponse) {
	count := 0
	if !req.ConfigValue.IsNull() && !req.ConfigValue.IsUnknown() {
		count = len(req.ConfigValue.Elements())
	}
	adopt, diags := adoptLaunchInput(ctx, req.Private, req.StateValue.IsNull(), count, func(lc launchCounts) int { return lc.Argv })
	resp.Diagnostics.Append(diags...)
	resp.RequiresReplace = !adopt
}

func launchInputReplaceMap(ctx context.Context, req planmodifier.MapRequest, resp *mapplanmodifier.RequiresReplaceIfFuncResponse) {
	count := 0
	if !req.ConfigValue.IsNull() && !req.ConfigValue.IsUnknown() {
		count = len(req.ConfigValue.Elements())
	}
	adopt, diags := adoptLaunchInput(ctx, req.Private, req.StateValue.IsNull(), count, func(lc launchCounts) int { return lc.Env })
	resp.Diagnostics.Append(diags...)
	resp.RequiresReplace = !adopt
}

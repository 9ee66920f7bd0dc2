package provider

// Terraform values built directly, for the hot paths that skip the
// framework's reflection (issue 10).

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// objectTerraformValue is the object of attrs, of attribute types
// attrTypes, as a Terraform value; what names it in an error (a bug).
func objectTerraformValue(ctx context.Context, what string, attrTypes map[string]attr.Type, attrs map[string]attr.Value) (tftypes.Value, diag.Diagnostics) {
	o, diags := types.ObjectValue(attrTypes, attrs)
	if diags.HasError() {
		return tftypes.Value{}, diags
	}
	v, err := o.ToTerraformValue(ctx)
	if err != nil {
		diags.AddError("Could not build "+what, "This is a bug in the Nimbus provider; please report it. "+err.Error())
	}
	return v, diags
}

// withAttributes returns the object value v with the attributes in repl
// replaced.
func withAttributes(v tftypes.Value, repl map[string]tftypes.Value) (tftypes.Value, error) {
	attrs := map[string]tftypes.Value{}
	if err := v.As(&attrs); err != nil {
		return tftypes.Value{}, err
	}
	maps.Copy(attrs, repl)
	if err := tftypes.ValidateValue(v.Type(), attrs); err != nil {
		return tftypes.Value{}, err
	}
	return tftypes.NewValue(v.Type(), attrs), nil
}

// listOrNull is the list of elems, values of type elem, or null when there
// are none (as the framework converts a nil slice).
func listOrNull(elem tftypes.Type, elems []tftypes.Value) tftypes.Value {
	typ := tftypes.List{ElementType: elem}
	if len(elems) == 0 {
		return tftypes.NewValue(typ, nil)
	}
	return tftypes.NewValue(typ, elems)
}

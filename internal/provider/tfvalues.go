package provider

// Terraform values built directly, for the hot paths that skip the
// framework's reflection (issue 10).

import (
	"maps"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

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

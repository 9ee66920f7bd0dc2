package provider

// The schema rules the docs do not check (descriptions and examples:
// package docscheck): which attributes the server owns.

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestServerOwnedAttributesComputedOnly: values the server owns can never be
// set in a configuration (Computed, not Optional), and the values that
// change on every update carry no UseStateForUnknown, so an update plan
// shows them unknown instead of a stale value.
func TestServerOwnedAttributesComputedOnly(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	serverOwned := map[string][]string{
		"nimbus_service": {"id", "generation", "observed_generation", "lifecycle_state", "readiness", "health",
			"status_message", "sandbox_id", "conditions", "endpoints", "created_at", "updated_at"},
		"nimbus_sandbox": {"id", "lifecycle_state", "message", "endpoints", "owner_kind", "generation", "created_at", "updated_at"},
		"nimbus_session": {"id", "expires_at", "lifecycle_state", "target_snapshot"},
	}
	for typ, names := range serverOwned {
		s := resp.ResourceSchemas[typ]
		if s == nil {
			t.Errorf("no schema for %s", typ)
			continue
		}
		attrs := map[string]*tfprotov6.SchemaAttribute{}
		for _, a := range s.Block.Attributes {
			attrs[a.Name] = a
		}
		for _, n := range names {
			a := attrs[n]
			switch {
			case a == nil:
				t.Errorf("%s has no attribute %s", typ, n)
			case !a.Computed || a.Optional || a.Required:
				t.Errorf("%s.%s is server-owned: want Computed only, got computed=%v optional=%v required=%v",
					typ, n, a.Computed, a.Optional, a.Required)
			}
		}
	}
	// Values every update changes: no UseStateForUnknown (checked on the
	// framework schemas, where plan modifiers live).
	ctx := t.Context()
	for _, tc := range []struct {
		r     resource.Resource
		attrs []string
	}{
		{NewServiceResource(), []string{"generation", "observed_generation", "updated_at", "lifecycle_state", "readiness", "health", "conditions"}},
		{NewSandboxResource(), []string{"generation", "updated_at"}},
	} {
		var sr resource.SchemaResponse
		tc.r.Schema(ctx, resource.SchemaRequest{}, &sr)
		for _, n := range tc.attrs {
			if mods := planModifierCount(sr.Schema.Attributes[n]); mods != 0 {
				t.Errorf("%T.%s changes on update but has %d plan modifier(s) (stale values in update plans)", tc.r, n, mods)
			}
		}
	}
}

func planModifierCount(a rschema.Attribute) int {
	switch a := a.(type) {
	case rschema.Int64Attribute:
		return len(a.PlanModifiers)
	case rschema.StringAttribute:
		return len(a.PlanModifiers)
	case rschema.ListNestedAttribute:
		return len(a.PlanModifiers)
	case rschema.ListAttribute:
		return len(a.PlanModifiers)
	}
	return -1
}

package validators

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestDurationBetween(t *testing.T) {
	v := DurationBetween(time.Second, 24*time.Hour)
	for _, tc := range []struct {
		in      types.String
		wantErr bool
	}{
		{types.StringValue("15m"), false},
		{types.StringValue("1s"), false},
		{types.StringValue("24h"), false},
		{types.StringValue("999ms"), true},
		{types.StringValue("24h1s"), true},
		{types.StringValue("fifteen minutes"), true},
		{types.StringValue("15"), true},
		{types.StringNull(), false},
		{types.StringUnknown(), false},
	} {
		resp := &validator.StringResponse{}
		v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("ttl"), ConfigValue: tc.in}, resp)
		if got := resp.Diagnostics.HasError(); got != tc.wantErr {
			t.Errorf("%s: error = %v, want %v (%v)", tc.in, got, tc.wantErr, resp.Diagnostics)
		}
	}
}

package validators

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestEndpoint(t *testing.T) {
	for in, wantErr := range map[string]bool{
		"http://127.0.0.1:8080": false, "https://nimbus.example.com": false, "http://[::1]:8080/v1": false,
		"127.0.0.1:8080": true, "localhost:8080": true, "ftp://x": true, "http://": true,
	} {
		resp := &validator.StringResponse{}
		Endpoint().ValidateString(context.Background(), validator.StringRequest{Path: path.Root("endpoint"), ConfigValue: types.StringValue(in)}, resp)
		if resp.Diagnostics.HasError() != wantErr {
			t.Errorf("Endpoint(%q): error = %v, want %v (%v)", in, resp.Diagnostics.HasError(), wantErr, resp.Diagnostics)
		}
		if wantErr && resp.Diagnostics.HasError() && !strings.Contains(resp.Diagnostics.Errors()[0].Detail(), "http://host:port") {
			t.Errorf("Endpoint(%q): the detail does not show the expected form: %s", in, resp.Diagnostics.Errors()[0].Detail())
		}
	}
	for _, v := range []types.String{types.StringUnknown(), types.StringNull()} {
		resp := &validator.StringResponse{}
		Endpoint().ValidateString(context.Background(), validator.StringRequest{Path: path.Root("endpoint"), ConfigValue: v}, resp)
		if resp.Diagnostics.HasError() {
			t.Errorf("%s must not fail validation", v)
		}
	}
}

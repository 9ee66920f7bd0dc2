package validators

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestName(t *testing.T) {
	for in, wantErr := range map[string]bool{
		"web": false, "web-1": false, "a": false,
		"Web": true, "1web": true, "web_1": true, "": true, strings.Repeat("a", 64): true, "-web": true,
	} {
		resp := &validator.StringResponse{}
		Name().ValidateString(context.Background(), validator.StringRequest{Path: path.Root("name"), ConfigValue: types.StringValue(in)}, resp)
		if resp.Diagnostics.HasError() != wantErr {
			t.Errorf("Name(%q): error = %v, want %v (%v)", in, resp.Diagnostics.HasError(), wantErr, resp.Diagnostics)
		}
	}
	resp := &validator.StringResponse{}
	Name().ValidateString(context.Background(), validator.StringRequest{Path: path.Root("name"), ConfigValue: types.StringUnknown()}, resp)
	if resp.Diagnostics.HasError() {
		t.Error("unknown values must not fail validation")
	}
}

func TestHTTPURL(t *testing.T) {
	for in, wantErr := range map[string]bool{
		"http://127.0.0.1:8080": false, "https://search.internal:9200/x": false,
		"ftp://x": true, "127.0.0.1:80": true, "http://": true, "": true,
		"http://user:PASS@host/base": true, "http://host/base?apikey=SECRET": true, "http://host/b?access_token=SECRET": true,
		"http://host/base?region=eu": false,
	} {
		resp := &validator.StringResponse{}
		p := path.Root("external").AtName("url")
		HTTPURL().ValidateString(context.Background(), validator.StringRequest{Path: p, ConfigValue: types.StringValue(in)}, resp)
		if resp.Diagnostics.HasError() != wantErr {
			t.Errorf("HTTPURL(%q): error = %v, want %v", in, resp.Diagnostics.HasError(), wantErr)
		}
		for _, d := range resp.Diagnostics {
			if strings.Contains(d.Detail(), "SECRET") || strings.Contains(d.Detail(), "PASS") {
				t.Errorf("HTTPURL(%q): the diagnostic repeats the secret: %s", in, d.Detail())
			}
			if strings.Contains(in, "SECRET") && !strings.Contains(d.Detail(), "external.auth.token") {
				t.Errorf("HTTPURL(%q): the diagnostic does not point at external.auth.token: %s", in, d.Detail())
			}
		}
	}
}

func mapOf(m map[string]string) types.Map {
	el := map[string]attr.Value{}
	for k, v := range m {
		el[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, el)
}

func TestLabels(t *testing.T) {
	for _, tc := range []struct {
		in      map[string]string
		wantErr bool
	}{
		{map[string]string{"team": "a", "app.kubernetes.io/name": "web"}, false},
		{map[string]string{"": "x"}, true},
		{map[string]string{"team": "has space"}, true},
		{map[string]string{"team": strings.Repeat("v", 64)}, true},
	} {
		resp := &validator.MapResponse{}
		Labels().ValidateMap(context.Background(), validator.MapRequest{Path: path.Root("labels"), ConfigValue: mapOf(tc.in)}, resp)
		if resp.Diagnostics.HasError() != tc.wantErr {
			t.Errorf("Labels(%v): error = %v, want %v (%v)", tc.in, resp.Diagnostics.HasError(), tc.wantErr, resp.Diagnostics)
		}
	}
}

func TestEnvironmentNames(t *testing.T) {
	for in, wantErr := range map[string]bool{"PATH": false, "_x1": false, "1X": true, "A-B": true, "": true} {
		resp := &validator.MapResponse{}
		EnvironmentNames().ValidateMap(context.Background(), validator.MapRequest{Path: path.Root("environment"), ConfigValue: mapOf(map[string]string{in: "v"})}, resp)
		if resp.Diagnostics.HasError() != wantErr {
			t.Errorf("EnvironmentNames(%q): error = %v, want %v", in, resp.Diagnostics.HasError(), wantErr)
		}
	}
}

func TestIDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    validator.String
		in   string
		bad  bool
	}{
		{"sandbox", SandboxID(), "sbx-0123abcd", false},
		{"sandbox", SandboxID(), "ses-0123abcd", true},
		{"sandbox", SandboxID(), "sbx-", true},
		{"sandbox", SandboxID(), "sbx-ABC", true},
		{"session", SessionID(), "ses-0123abcd", false},
		{"session", SessionID(), "sbx-0123abcd", true},
		{"session", SessionID(), "ses-a b", true},
	} {
		resp := &validator.StringResponse{}
		tc.v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("id"), ConfigValue: types.StringValue(tc.in)}, resp)
		if resp.Diagnostics.HasError() != tc.bad {
			t.Errorf("%s ID %q: error = %v, want %v", tc.name, tc.in, resp.Diagnostics.HasError(), tc.bad)
		}
		if tc.bad && !strings.Contains(resp.Diagnostics[0].Detail(), "must be a "+tc.name+" id such as") {
			t.Errorf("%s ID %q: detail %q does not state the rule", tc.name, tc.in, resp.Diagnostics[0].Detail())
		}
		resp = &validator.StringResponse{}
		tc.v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("id"), ConfigValue: types.StringUnknown()}, resp)
		if resp.Diagnostics.HasError() {
			t.Errorf("%s: unknown values must not fail validation", tc.name)
		}
	}
}

func TestImageReferenceAndHealthPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    validator.String
		in   string
		bad  bool
	}{
		{"image", ImageReference(), "docker.io/library/alpine:3", false},
		{"image", ImageReference(), "alpine 3", true},
		{"image", ImageReference(), "alpine\t3", true},
		{"image", ImageReference(), "", true},
		{"image", ImageReference(), strings.Repeat("a", 1025), true},
		{"health path", HealthPath(), "/healthz", false},
		{"health path", HealthPath(), "healthz", true},
	} {
		resp := &validator.StringResponse{}
		tc.v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("x"), ConfigValue: types.StringValue(tc.in)}, resp)
		if resp.Diagnostics.HasError() != tc.bad {
			t.Errorf("%s %q: error = %v, want %v", tc.name, tc.in, resp.Diagnostics.HasError(), tc.bad)
		}
	}
}

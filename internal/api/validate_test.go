package api

import (
	"strings"
	"testing"
)

func TestExternalURLRejectsCredentials(t *testing.T) {
	for raw, want := range map[string]string{
		"https://search.internal:9200":              "",
		"http://127.0.0.1:8080/base?region=eu&v=2":  "",
		"https://h/x?sort=asc&page=2":               "",
		"http://user:PASS@host/base":                "user:password@",
		"http://user@host/base":                     "user:password@",
		"http://host/base?apikey=SECRET":            `"apikey"`,
		"http://host/base?api_key=SECRET":           `"api_key"`,
		"http://host/base?Access_Token=SECRET":      `"Access_Token"`,
		"http://host/base?key=SECRET":               `"key"`,
		"http://host/base?token=SECRET&x=1":         `"token"`,
		"http://host/base?client-secret=SECRET":     `"client-secret"`,
		"http://host/base?password=SECRET":          `"password"`,
		"http://host/base?X-Amz-Signature=SECRET":   `"X-Amz-Signature"`,
		"http://user:PASS@host/base?apikey=SECRET":  "user:password@",
		"ftp://host/x":                              "absolute http or https",
		"/relative":                                 "absolute http or https",
		"http://host/base?subscription-key=SECRET":  `"subscription-key"`,
		"http://host/base?refresh_token=SECRET&a=b": `"refresh_token"`,
	} {
		got := ExternalURLProblem(raw, "backend.auth.token")
		switch {
		case want == "" && got != "":
			t.Errorf("%s: unexpected problem %q", raw, got)
		case want != "" && !strings.Contains(got, want):
			t.Errorf("%s: problem %q does not mention %q", raw, got, want)
		case strings.Contains(got, "SECRET") || strings.Contains(got, "PASS"):
			t.Errorf("%s: the problem repeats the secret: %q", raw, got)
		case want != "" && want != "absolute http or https" && !strings.Contains(got, "backend.auth.token"):
			t.Errorf("%s: the problem does not point at backend.auth.token: %q", raw, got)
		}
	}
}

func TestCreateServiceRejectsCredentialsInURL(t *testing.T) {
	r := CreateServiceRequest{Name: "ext", Backend: Backend{Kind: BackendKindExternal,
		Endpoint: &ExternalEndpoint{URL: "http://user:PASS@host/base?apikey=SECRET"}}}
	v := r.Validate()
	if len(v) != 1 || v[0].Field != "backend.endpoint.url" || !strings.Contains(v[0].Description, "backend.auth.token") {
		t.Fatalf("violations %+v", v)
	}
}

// TestSandboxSpecRules: the server applies the rules the provider's
// validators apply (ValidImageReference, ValidEnvName).
func TestSandboxSpecRules(t *testing.T) {
	spec := func(image string, env map[string]string) *SandboxSpec {
		return &SandboxSpec{Owner: Owner{Kind: OwnerKindStandalone}, Backend: RuntimeContainer,
			Root:    Root{Kind: RootKindOCIImage, Source: RootSource{Kind: SourceKindReference, Reference: image}},
			Process: Process{Environment: RedactableMap{Values: env}}}
	}
	for _, tc := range []struct {
		image string
		env   map[string]string
		want  int
	}{
		{"docker.io/library/alpine:3", map[string]string{"PATH": "/bin", "_x1": "y"}, 0},
		{"alpine 3", nil, 1},
		{"docker.io/library/alpine:3", map[string]string{"1X": "y", "A-B": "z"}, 2},
	} {
		var v Violations
		ValidateSandboxSpec("spec", spec(tc.image, tc.env), OwnerKindStandalone, &v)
		if len(v) != tc.want {
			t.Errorf("image %q env %v: %d violations %v, want %d", tc.image, tc.env, len(v), v, tc.want)
		}
		if ValidImageReference(tc.image) == (tc.image == "alpine 3") {
			t.Errorf("ValidImageReference(%q) disagrees with the spec check", tc.image)
		}
	}
}

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

package auth_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/auth"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
)

func newAuth(t *testing.T) *auth.Authenticator {
	t.Helper()
	a, err := auth.New([]auth.Credential{
		{Kind: auth.CredentialToken, Secret: "all-secret", Tenants: []string{"*"}, Name: "ops"},
		{Kind: auth.CredentialAPIKey, Secret: "b-secret", Tenants: []string{"team-b"}},
	}, []string{"team-a"}, nil, wif.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthenticateAndTenants(t *testing.T) {
	a := newAuth(t)
	r := httptest.NewRequest(http.MethodGet, "/v1/tenants", http.NoBody)
	r.Header.Set("Authorization", "Bearer all-secret")
	p, e := a.Authenticate(r, "req-1")
	if e != nil || !p.Valid() || p.Name() != "ops" || !p.Allowed("team-a") || !p.Allowed("team-b") {
		t.Fatalf("token: %+v %v", p, e)
	}
	r = httptest.NewRequest(http.MethodGet, "/v1/tenants", http.NoBody)
	r.Header.Set(api.HeaderAPIKey, "b-secret")
	p, e = a.Authenticate(r, "req-2")
	if e != nil || p.Name() != "api_key#2" || p.Allowed("team-a") || !p.Allowed("team-b") {
		t.Fatalf("api key: %+v %v", p, e)
	}
	if got := a.VisibleTenants(p); !slices.Equal(got, []string{"team-b"}) {
		t.Fatalf("visible to the team-b key: %v", got)
	}
	a.AddTenant("team-c")
	if got := a.Tenants(); !slices.Equal(got, []string{"team-a", "team-b", "team-c"}) || !a.TenantExists("team-c") || a.TenantExists("nope") {
		t.Fatalf("tenants %v", got)
	}

	for _, hdr := range [][2]string{{"Authorization", "Bearer wrong"}, {"Authorization", "Basic x"}, {api.HeaderAPIKey, "all-secret"}, {"X-Other", "x"}} {
		r = httptest.NewRequest(http.MethodGet, "/v1/tenants", http.NoBody)
		r.Header.Set(hdr[0], hdr[1])
		p, e := a.Authenticate(r, "req-3")
		if e == nil || e.Code != api.CodeUnauthenticated || p.Valid() || p.Allowed("team-a") {
			t.Fatalf("%s: %q accepted: %+v %v", hdr[0], hdr[1], p, e)
		}
	}
}

func TestParseCredentialFlag(t *testing.T) {
	c, err := auth.ParseCredentialFlag(auth.CredentialToken, "s=e=cret=team-a,team-b")
	if err != nil || c.Secret != "s=e=cret" || !slices.Equal(c.Tenants, []string{"team-a", "team-b"}) {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{"secret", "=team", "secret=", "secret=a,,b"} {
		if _, err := auth.ParseCredentialFlag(auth.CredentialToken, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

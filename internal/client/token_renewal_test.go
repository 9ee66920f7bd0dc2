package client

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// expiringServer accepts only "Bearer fresh"; any other bearer token is
// refused as auth.unauthenticated with reason (token_expired unless set
// otherwise). onRefuse runs before a refusal is answered.
type expiringServer struct {
	*httptest.Server
	mu       sync.Mutex
	seen     []string
	reason   string
	onRefuse func()
}

func newExpiringServer(t *testing.T) *expiringServer {
	t.Helper()
	s := &expiringServer{reason: api.ReasonTokenExpired}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.Header.Get("Authorization"))
		onRefuse, reason := s.onRefuse, s.reason
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer fresh" {
			if onRefuse != nil {
				onRefuse()
			}
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeUnauthenticated,
				Message: "the workload-identity token expired", Details: &api.ErrorDetails{Reason: reason}}})
			return
		}
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"metadata":{"name":"svc"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"items":[]}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *expiringServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.seen...)
}

func writeToken(t *testing.T, p, tok string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestExpiredFileTokenIsRereadAndRetriedOnce: the token in the file expires
// and is rotated while a request is under way; the request is repeated once
// with the new token, for reads and writes alike.
func TestExpiredFileTokenIsRereadAndRetriedOnce(t *testing.T) {
	srv := newExpiringServer(t)
	p := filepath.Join(t.TempDir(), "token")
	writeToken(t, p, "stale")
	srv.onRefuse = func() { writeToken(t, p, "fresh") } // rotated by the platform meanwhile
	c := mustNew(t, Config{Endpoint: srv.URL, TenantID: "acc", Getenv: env{EnvWorkloadIdentityTokenFile: p}.get, HomeDir: t.TempDir()})
	if _, err := c.Services.Create(t.Context(), api.CreateServiceRequest{Name: "svc", Backend: api.Backend{Kind: api.BackendKindBuiltIn, Provider: "loadBalancer"}}); err != nil {
		t.Fatalf("create after rotation: %v", err)
	}
	if got := strings.Join(srv.requests(), ", "); got != "POST Bearer stale, POST Bearer fresh" {
		t.Fatalf("requests: %s", got)
	}
}

func TestExpiredTokenRetryIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    func(p string) env
		reason string
		want   string
	}{
		// The file was not rotated: one retry, then the refusal.
		{"file never rotated", func(p string) env { return env{EnvWorkloadIdentityTokenFile: p} }, api.ReasonTokenExpired, "GET Bearer stale, GET Bearer stale"},
		// A token from the environment cannot change: no retry.
		{"token from the environment", func(string) env { return env{EnvWorkloadIdentityToken: "stale"} }, api.ReasonTokenExpired, "GET Bearer stale"},
		{"TFC_WORKLOAD_IDENTITY_TOKEN", func(string) env { return env{EnvTFCWorkloadIdentityToken: "stale"} }, api.ReasonTokenExpired, "GET Bearer stale"},
		// Another refusal reason: no retry.
		{"bad signature", func(p string) env { return env{EnvWorkloadIdentityTokenFile: p} }, api.ReasonBadSignature, "GET Bearer stale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newExpiringServer(t)
			srv.reason = tc.reason
			p := filepath.Join(t.TempDir(), "token")
			writeToken(t, p, "stale")
			c := mustNew(t, Config{Endpoint: srv.URL, TenantID: "acc", Getenv: tc.env(p).get, HomeDir: t.TempDir()})
			_, err := c.Services.List(t.Context(), ListServicesOptions{})
			if Code(err) != api.CodeUnauthenticated || IsTokenExpired(err) != (tc.reason == api.ReasonTokenExpired) {
				t.Fatalf("err = %v", err)
			}
			if got := strings.Join(srv.requests(), ", "); got != tc.want {
				t.Fatalf("requests: %s, want %s", got, tc.want)
			}
		})
	}
}

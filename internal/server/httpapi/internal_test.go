package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/auth"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/wif"
)

// newTestAPI is an API over a new in-memory domain, with bearer token "t"
// allowed in tenants.
func newTestAPI(t *testing.T, cfg Config, tenants []string) *API {
	t.Helper()
	a, err := auth.New([]auth.Credential{{Kind: auth.CredentialToken, Secret: "t", Tenants: tenants}}, nil, nil, wif.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	d, err := domain.New(domain.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	cfg.Domain, cfg.Auth = d, a
	return New(cfg)
}

func TestPanicBecomesInternalError(t *testing.T) {
	var logs bytes.Buffer
	s := newTestAPI(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, []string{"*"})
	h := s.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom at handlers.go:42") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/tenants/acc/services", http.NoBody))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	var e api.ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != api.CodeInternal || e.Error.RequestID == "" {
		t.Fatalf("body %s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "boom") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Fatalf("panic details leaked: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

// FuzzDecodeRequest feeds arbitrary bodies through the strict decoder and
// validation of every request type: the outcome is a value or a 4xx API
// error, never a panic.
func FuzzDecodeRequest(f *testing.F) {
	seeds := []string{
		`{"name":"svc","backend":{"kind":"builtIn","provider":"loadBalancer"}}`,
		`{"name":"api","backend":{"kind":"sandbox","sandbox":{"owner":{"kind":"service","serviceName":"api"},"backend":"krun","root":{"kind":"oci_image","source":{"kind":"reference","reference":"a:1"}},"process":{"argv":["x"],"environment":{"A":"b"}}}}}`,
		`{"name":"ext","backend":{"kind":"external","endpoint":{"url":"https://x:9200"},"auth":{"kind":"bearer","token":"t"},"health":{"kind":"http","path":"/h"}}}`,
		`{"profile":"desktop","spec":{"owner":{"kind":"standalone","displayName":"d"},"backend":"container","root":{"kind":"oci_image","source":{"kind":"reference","reference":"a"}},"process":{"argv":{"redacted":true,"valueCount":2},"environment":{"redacted":true,"valueCount":1}}}}`,
		`{"target":{"service":{"name":"a"}},"channels":["stdio","cdp"],"requestedTtlMs":1000}`,
		`{"target":{"sandbox":{"id":"sbx-1"}},"channels":[],"requestedTtlMs":-5}`,
		`{"backend":null,"labels":{"a":"b"},"ifMatchGeneration":3}`,
		`{"labels":null,"ifMatchGeneration":0}`,
		`{"reason":"done"}`,
		`{"name":"a"} trailing`,
		`{"name":"a","name":"b"}`,
		`{"name":1e999}`,
		`[{"a":1}]`,
		`null`,
		`"str"`,
		`{"backend":{"sandbox":{"process":{"environment":{"redacted":"yes"}}}}}`,
		"\xff\xfe{}",
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(e *apiError) {
			if e != nil && (api.HTTPStatus(e.Code) < 400 || api.HTTPStatus(e.Code) >= 500) {
				t.Fatalf("decode error %s maps to %d", e.Code, api.HTTPStatus(e.Code))
			}
		}
		var cs api.CreateServiceRequest
		if e := decodeBytes(body, &cs, false); e == nil {
			_ = cs.Validate()
		} else {
			check(e)
		}
		var us api.UpdateServiceRequest
		if e := decodeBytes(body, &us, false); e == nil {
			_ = us.Validate("svc")
		} else {
			check(e)
		}
		var cb api.CreateSandboxRequest
		if e := decodeBytes(body, &cb, false); e == nil {
			_ = cb.Validate()
		} else {
			check(e)
		}
		var ub api.UpdateSandboxRequest
		if e := decodeBytes(body, &ub, true); e == nil {
			_ = ub.Validate()
		} else {
			check(e)
		}
		var os api.OpenSessionRequest
		if e := decodeBytes(body, &os, false); e == nil {
			_ = os.Validate()
		} else {
			check(e)
		}
		var cl api.CloseSessionRequest
		check(decodeBytes(body, &cl, true))
		var act api.ServiceActionRequest
		check(decodeBytes(body, &act, true))
	})
}

func TestOverloadIsUnavailable(t *testing.T) {
	s := newTestAPI(t, Config{MaxInFlight: 1}, []string{"acc"})
	release := make(chan struct{})
	entered := make(chan struct{})
	h := s.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		w.WriteHeader(200)
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/slow", http.NoBody))
	}()
	<-entered
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/fast", http.NoBody))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), api.CodeUnavailable) {
		t.Fatalf("overloaded: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	close(release)
	<-done
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/fast", http.NoBody))
	if rec.Code != 200 {
		t.Fatalf("after the slow request: %d", rec.Code)
	}
}

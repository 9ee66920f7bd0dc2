package health

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
)

func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := fmt.Sprintf("http://%s", l.Addr())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestHealthChecker(t *testing.T) {
	var healthy atomic.Bool
	var sawToken, sawPath atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawToken.Store(r.Header.Get("Authorization"))
		sawPath.Store(r.URL.Path)
		switch {
		case r.URL.Path == "/moved":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		case r.URL.Path != "/api/healthz":
			http.NotFound(w, r)
		case !healthy.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	h := NewChecker(2 * time.Second)
	ctx := t.Context()
	auth := &api.ExternalAuth{Kind: api.AuthKindBearer, Token: &api.Secret{Value: "tok-123"}}

	ok, detail := h.Check(ctx, srv.URL+"/api", "/healthz", auth)
	if want := "GET " + srv.URL + "/api/healthz: HTTP 503 Service Unavailable"; ok || detail != want {
		t.Fatalf("want unhealthy %q, got %v %q", want, ok, detail)
	}
	if sawToken.Load() != "Bearer tok-123" {
		t.Fatalf("bearer token not sent: %v", sawToken.Load())
	}

	healthy.Store(true)
	if ok, detail := h.Check(ctx, srv.URL+"/api/", "healthz", &api.ExternalAuth{Kind: api.AuthKindNone}); !ok || !strings.Contains(detail, "HTTP 204") {
		t.Fatalf("want healthy, got %v %q", ok, detail)
	}
	if sawPath.Load() != "/api/healthz" || sawToken.Load() != "" {
		t.Fatalf("want GET /api/healthz without credentials, got %v with %q", sawPath.Load(), sawToken.Load())
	}

	if ok, detail := h.Check(ctx, srv.URL, "/moved", nil); ok || !strings.Contains(detail, "HTTP 302") {
		t.Fatalf("a redirect is not healthy: got %v %q", ok, detail)
	}

	dead := deadURL(t)
	if ok, detail := h.Check(ctx, dead, "/healthz", auth); ok || detail != "GET "+dead+"/healthz: connection refused" {
		t.Fatalf("want connection refused, got %v %q", ok, detail)
	}

	if ok, detail := h.Check(ctx, "ftp://example.invalid", "/", nil); ok || !strings.Contains(detail, "not an absolute http or https URL") {
		t.Fatalf("want a URL complaint, got %v %q", ok, detail)
	}
}

func TestHealthCheckerNeverShowsSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	h := NewChecker(time.Second)
	withPassword := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1)
	auth := &api.ExternalAuth{Kind: api.AuthKindBearer, Token: &api.Secret{Value: "tok-secret"}}
	for _, target := range []string{withPassword, strings.Replace(deadURL(t), "http://", "http://user:hunter2@", 1)} {
		ok, detail := h.Check(t.Context(), target, "/", auth)
		if ok || strings.Contains(detail, "hunter2") || strings.Contains(detail, "tok-secret") {
			t.Fatalf("detail leaks a secret or is healthy: %v %q", ok, detail)
		}
	}
	// A token that is not a valid header value fails the request without
	// echoing it.
	bad := &api.ExternalAuth{Kind: api.AuthKindBearer, Token: &api.Secret{Value: "tok-secret\nX: y"}}
	if ok, detail := h.Check(t.Context(), srv.URL, "/", bad); ok || strings.Contains(detail, "tok-secret") {
		t.Fatalf("detail leaks a secret or is healthy: %v %q", ok, detail)
	}
}

func TestHealthCheckerTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	h := NewChecker(100 * time.Millisecond)
	ok, detail := h.Check(t.Context(), srv.URL, "/slow", nil)
	if ok || !strings.Contains(detail, "no response within 100ms") {
		t.Fatalf("want a timeout, got %v %q", ok, detail)
	}
}

func TestHealthMonitorTurnsHealthyThenUnhealthy(t *testing.T) {
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m := NewMonitor(NewChecker(5*time.Second), 30*time.Second, clk)
	defer m.Close()
	results := make(chan Result, 1)
	m.Watch("acc/ext", srv.URL, "/healthz", nil, func(r Result) { results <- r })
	next := func() Result {
		t.Helper()
		select {
		case r := <-results:
			return r
		case <-time.After(20 * time.Second):
			t.Fatal("no health result")
			return Result{}
		}
	}
	// The first check runs at once.
	if r := next(); r.Healthy || !strings.Contains(r.Detail, "HTTP 503") || !r.At.Equal(clk.Now()) {
		t.Fatalf("want unhealthy at the current time, got %+v", r)
	}
	healthy.Store(true)
	// No second check until the interval passes on the clock.
	clk.BlockUntil(1)
	select {
	case r := <-results:
		t.Fatalf("checked again before the interval: %+v", r)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(30 * time.Second)
	if r := next(); !r.Healthy {
		t.Fatalf("want healthy, got %+v", r)
	}
	srv.Close() // the service goes away
	clk.BlockUntil(1)
	clk.Advance(30 * time.Second)
	if r := next(); r.Healthy || !strings.Contains(r.Detail, "connection refused") {
		t.Fatalf("want connection refused, got %+v", r)
	}
	if !m.Watching("acc/ext") {
		t.Fatal("Watching = false during a watch")
	}
	clk.BlockUntil(1)
	m.Unwatch("acc/ext")
	if m.Watching("acc/ext") {
		t.Fatal("Watching = true after Unwatch")
	}
	m.Close()
	if n := clk.Timers(); n != 0 {
		t.Fatalf("%d timers left pending after Unwatch", n)
	}
	select {
	case r := <-results:
		t.Fatalf("result after Unwatch: %+v", r)
	default:
	}
}

func TestHealthMonitorRealTime(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 { // healthy from the third check on
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	m := NewMonitor(NewChecker(time.Second), 10*time.Millisecond, nil)
	defer m.Close()
	results := make(chan Result, 100)
	m.Watch("acc/ext", srv.URL, "/", nil, func(r Result) { results <- r })
	var seen []bool
	deadline := time.After(10 * time.Second)
	for len(seen) < 3 {
		select {
		case r := <-results:
			seen = append(seen, r.Healthy)
		case <-deadline:
			t.Fatalf("only %d results", len(seen))
		}
	}
	if seen[0] || seen[1] || !seen[2] {
		t.Fatalf("want unhealthy, unhealthy, healthy; got %v", seen)
	}
	// Watching again replaces the watch rather than adding one.
	m.Watch("acc/ext", srv.URL, "/", nil, func(Result) {})
	m.Unwatch("acc/ext")
}

func TestHealthURLJoinsPathsBeforeTheQuery(t *testing.T) {
	for _, c := range []struct{ url, path, want string }{
		{"http://h:1/api/", "/healthz", "http://h:1/api/healthz"},
		{"http://h:1", "/healthz", "http://h:1/healthz"},
		{"http://h:1/base?region=eu", "/healthz", "http://h:1/base/healthz?region=eu"},
		{"http://h:1/base/?a=1&b=2#frag", "healthz", "http://h:1/base/healthz?a=1&b=2#frag"},
		{"http://h:1/a%2Fb", "/healthz", "http://h:1/a%2Fb/healthz"},
		{"http://h:1/base", "", "http://h:1/base"},
	} {
		if got := HealthURL(c.url, c.path); got != c.want {
			t.Errorf("HealthURL(%q, %q) = %q, want %q", c.url, c.path, got, c.want)
		}
	}
}

// TestCheckDetailHidesSecretsInTheURL: neither a password nor a secret
// query parameter of a (stored, older) URL appears in the check's detail.
func TestCheckDetailHidesSecretsInTheURL(t *testing.T) {
	_, detail := NewChecker(2*time.Second).Check(t.Context(), "http://user:PASS@127.0.0.1:1/base?apikey=SECRET&region=eu", "/healthz", nil)
	if strings.Contains(detail, "SECRET") || strings.Contains(detail, "PASS") || !strings.Contains(detail, "region=eu") || !strings.Contains(detail, "/base/healthz") {
		t.Fatalf("detail %q", detail)
	}
}

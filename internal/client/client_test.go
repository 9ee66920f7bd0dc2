package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

func newTestClient(t *testing.T, url string, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Endpoint: url, Token: "test-token", TenantID: "acc", Getenv: env{}.get, HomeDir: t.TempDir()}
	for _, m := range mod {
		m(&cfg)
	}
	return mustNew(t, cfg)
}

func writeAPIError(w http.ResponseWriter, code, msg, rid string, details *api.ErrorDetails) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(api.HeaderRequestID, rid)
	w.WriteHeader(api.HTTPStatus(code))
	_ = json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.ErrorBody{Code: code, Message: msg, RequestID: rid, Details: details}})
}

// hasCode is the predicate for an error code without a helper of its own.
func hasCode(code string) func(error) bool {
	return func(err error) bool { return Code(err) == code }
}

func TestErrorsAreTypedByCode(t *testing.T) {
	codes := []struct {
		code string
		is   func(error) bool
	}{
		{api.CodeInvalid, hasCode(api.CodeInvalid)},
		{api.CodeTooLarge, hasCode(api.CodeTooLarge)},
		{api.CodeUnauthenticated, hasCode(api.CodeUnauthenticated)},
		{api.CodePermissionDenied, hasCode(api.CodePermissionDenied)},
		{api.CodeNotFound, IsNotFound},
		{api.CodeAlreadyExists, hasCode(api.CodeAlreadyExists)},
		{api.CodeConflict, IsConflict},
		{api.CodePreconditionFailed, IsPreconditionFailed},
		{api.CodePreconditionRequired, hasCode(api.CodePreconditionRequired)},
		{api.CodeRateLimited, hasCode(api.CodeRateLimited)},
		{api.CodeUnavailable, hasCode(api.CodeUnavailable)},
		{api.CodeInternal, hasCode(api.CodeInternal)},
	}
	for _, tc := range codes {
		t.Run(tc.code, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// The message deliberately mentions another code: helpers
				// must look at the code only.
				writeAPIError(w, tc.code, "looks like resource.not_found but is not", "req-42",
					&api.ErrorDetails{Kind: "service", Name: "x", CurrentGeneration: 7, FieldViolations: []api.FieldViolation{{Field: "name", Description: "bad"}}})
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(c *Config) { c.MaxRetries = -1 })
			_, err := c.Services.Create(t.Context(), api.CreateServiceRequest{Name: "x"})
			if !tc.is(err) {
				t.Fatalf("helper for %s is false for %v", tc.code, err)
			}
			if tc.code != api.CodeNotFound && IsNotFound(err) {
				t.Fatalf("IsNotFound keyed on text")
			}
			e, ok := AsError(err)
			if !ok || e.Code != tc.code || e.HTTPStatus != api.HTTPStatus(tc.code) || e.RequestID != "req-42" ||
				e.Details == nil || e.Details.CurrentGeneration != 7 || len(e.FieldViolations()) != 1 {
				t.Fatalf("error fields: %+v", e)
			}
			for _, want := range []string{tc.code, "req-42", "name: bad", "POST /v1/tenants/acc/services"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "test-token") {
				t.Fatalf("message leaks the token")
			}
		})
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	cases := []struct {
		status int
		body   string
		code   string
	}{
		{502, "<html><body>Bad Gateway</body></html>", api.CodeUnavailable},
		{404, "404 page not found\n", api.CodeNotFound},
		{500, "", api.CodeInternal},
		{418, "teapot", api.CodeInvalid},
	}
	for _, tc := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(api.HeaderRequestID, "rid-plain")
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		c := newTestClient(t, srv.URL, func(c *Config) { c.MaxRetries = -1 })
		_, err := c.Services.Get(t.Context(), "x")
		srv.Close()
		e, ok := AsError(err)
		if !ok || e.Code != tc.code || e.HTTPStatus != tc.status || e.RequestID != "rid-plain" || e.Message == "" {
			t.Errorf("status %d: got %+v (%v)", tc.status, e, err)
		}
		if strings.Contains(err.Error(), "<html>") {
			t.Errorf("HTML body copied into the error: %v", err)
		}
	}
}

func TestRetries(t *testing.T) {
	var calls atomic.Int32
	var mode atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch mode.Load().(string) {
		case "unavailable-twice":
			if n <= 2 {
				w.Header().Set("Retry-After", "0")
				writeAPIError(w, api.CodeUnavailable, "draining", "r", nil)
				return
			}
		case "always-unavailable":
			w.Header().Set("Retry-After", "0")
			writeAPIError(w, api.CodeUnavailable, "draining", "r", nil)
			return
		case "rate-limited-once":
			if n == 1 {
				w.Header().Set("Retry-After", "0")
				writeAPIError(w, api.CodeRateLimited, "slow down", "r", nil)
				return
			}
		case "long-retry-after":
			w.Header().Set("Retry-After", "120")
			writeAPIError(w, api.CodeRateLimited, "slow down", "r", nil)
			return
		}
		_, _ = w.Write([]byte(`{"metadata":{"name":"x","generation":1}}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	ctx := t.Context()

	run := func(m string, f func() error) (int32, error) {
		calls.Store(0)
		mode.Store(m)
		err := f()
		return calls.Load(), err
	}
	get := func() error { _, err := c.Services.Get(ctx, "x"); return err }
	post := func() error { _, err := c.Services.Start(ctx, "x", ActionOptions{}); return err }

	if n, err := run("unavailable-twice", get); err != nil || n != 3 {
		t.Fatalf("GET after two 503s: calls=%d err=%v", n, err)
	}
	// server.unavailable with the API's body is admission control or a
	// draining server: nothing was done, so writes are retried too, until
	// the deadline.
	short := func(f func(ctx context.Context) error) func() error {
		return func() error {
			ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			return f(ctx)
		}
	}
	if n, err := run("always-unavailable", short(func(ctx context.Context) error {
		_, err := c.Services.Start(ctx, "x", ActionOptions{})
		return err
	})); Code(err) != api.CodeUnavailable || n < 2 {
		t.Fatalf("a POST is retried on the API's 503 until the deadline: calls=%d err=%v", n, err)
	}
	if n, err := run("always-unavailable", short(func(ctx context.Context) error {
		_, err := c.Services.Get(ctx, "x")
		return err
	})); Code(err) != api.CodeUnavailable || n < 2 || !strings.Contains(err.Error(), "attempts in") {
		t.Fatalf("GET retries end at the deadline and say so: calls=%d err=%v", n, err)
	}
	if n, err := run("rate-limited-once", post); err != nil || n != 2 {
		t.Fatalf("rate.limited means nothing was done, retry: calls=%d err=%v", n, err)
	}
	n, err := run("long-retry-after", short(func(ctx context.Context) error {
		_, err := c.Services.Get(ctx, "x")
		return err
	}))
	e, _ := AsError(err)
	if n != 1 || e == nil || e.RetryAfter != 120*time.Second || !strings.Contains(err.Error(), "retry after 2m0s") {
		t.Fatalf("a Retry-After beyond the deadline is returned, not slept: calls=%d err=%v", n, err)
	}
}

func TestConnectionRefusedWriteRetriedAndLogged(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: connection refused
	var mu sync.Mutex
	var logged []string
	c := newTestClient(t, "http://"+addr, func(c *Config) {
		c.MaxRetries = 2
		c.RequestLog = func(ctx context.Context, method, path string, status int, d time.Duration, rid string) {
			mu.Lock()
			logged = append(logged, fmt.Sprintf("%s %s %d", method, path, status))
			mu.Unlock()
		}
	})
	_, err = c.Services.Create(t.Context(), api.CreateServiceRequest{Name: "x"})
	if err == nil || Code(err) != "" {
		t.Fatalf("want a transport error, got %v", err)
	}
	if len(logged) != 3 || logged[0] != "POST /v1/tenants/acc/services 0" {
		t.Fatalf("attempts logged: %q", logged)
	}
}

func TestHeadersUserAgentAndLogHook(t *testing.T) {
	var gotUA, gotAccept, gotCT, gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotAccept, gotCT, gotQuery = r.UserAgent(), r.Header.Get("Accept"), r.Header.Get("Content-Type"), r.URL.RawQuery
		w.Header().Set(api.HeaderRequestID, "rid-1")
		_, _ = w.Write([]byte(`{"items":[],"metadata":{}}`))
	}))
	defer srv.Close()
	type entry struct {
		method, path, rid string
		status            int
	}
	var logs []entry
	c := newTestClient(t, srv.URL, func(c *Config) {
		c.UserAgent = "terraform-provider-nimbus/1.2.3"
		c.RequestLog = func(ctx context.Context, method, path string, status int, d time.Duration, rid string) {
			logs = append(logs, entry{method, path, rid, status})
		}
	})
	if _, err := c.Services.List(t.Context(), ListServicesOptions{Limit: 5, LabelKey: "team", LabelValue: "search", LifecycleState: "running", PageToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	if gotUA != "terraform-provider-nimbus/1.2.3" || gotAccept != "application/json" || gotCT != "" {
		t.Fatalf("headers: ua=%q accept=%q ct=%q", gotUA, gotAccept, gotCT)
	}
	if gotQuery != "labelKey=team&labelValue=search&lifecycleState=running&limit=5&pageToken=tok" {
		t.Fatalf("query = %q", gotQuery)
	}
	if len(logs) != 1 || logs[0] != (entry{"GET", "/v1/tenants/acc/services", "rid-1", 200}) {
		t.Fatalf("log = %+v", logs)
	}
	c2 := newTestClient(t, srv.URL)
	if _, err := c2.Services.Create(t.Context(), api.CreateServiceRequest{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	if gotUA != DefaultUserAgent || gotCT != "application/json" {
		t.Fatalf("default UA %q, content type %q", gotUA, gotCT)
	}
}

func TestTenantOverrideAndPaths(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	ctx := t.Context()
	other := InTenant("other")
	gen := int64(3)
	steps := []func() error{
		func() error { _, err := c.Services.Get(ctx, "svc", other); return err },
		func() error {
			_, err := c.Services.Update(ctx, "svc", api.UpdateServiceRequest{IfMatchGeneration: &gen})
			return err
		},
		func() error { return c.Services.Delete(ctx, "svc", DeleteOptions{IfMatchGeneration: 3, Force: true}) },
		func() error { _, err := c.Services.Restart(ctx, "svc", ActionOptions{}, other); return err },
		func() error { _, err := c.Sandboxes.Create(ctx, api.CreateSandboxRequest{}); return err },
		func() error { _, err := c.Sandboxes.Stop(ctx, "sbx-1", ActionOptions{}); return err },
		func() error { return c.Sandboxes.Delete(ctx, "sbx-1", SandboxDeleteOptions{Force: true}) },
		func() error {
			_, err := c.Sandboxes.Update(ctx, "sbx-1", api.UpdateSandboxRequest{IfMatchGeneration: &gen})
			return err
		},
		func() error { _, err := c.Sessions.Open(ctx, api.OpenSessionRequest{}, other); return err },
		func() error { _, err := c.Sessions.List(ctx, ListSessionsOptions{State: "open", Limit: 2}); return err },
		func() error { _, err := c.Sessions.Close(ctx, "ses-1", "done"); return err },
		func() error {
			_, err := c.Sessions.Get(ctx, "ses-1", ChangedSince("rv9", 1500*time.Millisecond))
			return err
		},
	}
	for i, s := range steps {
		if err := s(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := []string{
		"GET /v1/tenants/other/services/svc?",
		"PATCH /v1/tenants/acc/services/svc?",
		"DELETE /v1/tenants/acc/services/svc?force=true&ifMatchGeneration=3",
		"GET /v1/tenants/other/services/svc?",
		"POST /v1/tenants/other/services/svc/restart?",
		"POST /v1/tenants/acc/sandboxes?",
		"POST /v1/tenants/acc/sandboxes/sbx-1/stop?",
		"DELETE /v1/tenants/acc/sandboxes/sbx-1?force=true",
		"PATCH /v1/tenants/acc/sandboxes/sbx-1?",
		"POST /v1/tenants/other/sessions?",
		"GET /v1/tenants/acc/sessions?limit=2&state=open",
		"POST /v1/tenants/acc/sessions/ses-1/close?",
		"GET /v1/tenants/acc/sessions/ses-1?changedSince=rv9&waitMs=1500",
	}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Fatalf("paths:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
	// Empty ids never turn into a list call.
	if _, err := c.Services.Get(ctx, ""); err == nil {
		t.Fatal("empty name accepted")
	}
	if _, err := c.Sandboxes.Get(ctx, " "); err == nil {
		t.Fatal("empty id accepted")
	}
	if _, err := c.Services.Start(ctx, "svc", ActionOptions{WaitUntil: "stopped"}); err == nil {
		t.Fatal("start waitUntil stopped accepted")
	}
	if len(paths) != len(want) {
		t.Fatalf("invalid calls sent requests")
	}
}

func TestTransportPoolReusesConnectionsUnderParallelism(t *testing.T) {
	var newConns atomic.Int32
	var mu sync.Mutex
	release := make(chan struct{})
	inflight := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inflight++
		ch := release
		if inflight == 64 {
			close(release)
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-r.Context().Done(): // the client gave up: a round did not reach 64 at once
			return
		}
		_, _ = w.Write([]byte(`{"items":[]}`))
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	tr := c.http.Transport.(*http.Transport)
	if tr.MaxIdleConnsPerHost < 32 {
		t.Fatalf("MaxIdleConnsPerHost = %d", tr.MaxIdleConnsPerHost)
	}
	round := func() {
		// Each round's requests wait for one another on the server: a pool
		// that cannot hold 64 connections at once fails at the deadline.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Tenants(ctx); err != nil {
					t.Errorf("64 concurrent requests did not all reach the server at once: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	round() // 64 concurrent requests: 64 connections
	first := newConns.Load()
	mu.Lock()
	release = make(chan struct{})
	inflight = 0
	mu.Unlock()
	round() // again: all reuse idle connections
	if extra := newConns.Load() - first; extra > 4 {
		t.Fatalf("second round of 64 concurrent requests opened %d new connections (first round %d)", extra, first)
	}
}

func TestContextCancellation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Services.Get(ctx, "x")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err=%v after %s", err, time.Since(start))
	}
}

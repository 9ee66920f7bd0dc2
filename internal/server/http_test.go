package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func TestBadRequests(t *testing.T) {
	srv := testserver.Start(t)
	valid := `{"name":"svc","backend":{"kind":"builtIn","provider":"loadBalancer"}}`
	cases := []struct {
		name, method, path, body string
		opts                     []reqOpt
		status                   int
		code, field              string
	}{
		{"malformed JSON", "POST", "/services", `{"name":`, nil, 400, api.CodeInvalid, ""},
		{"syntax error", "POST", "/services", `{"name" "x"}`, nil, 400, api.CodeInvalid, ""},
		{"unknown field", "POST", "/services", `{"name":"svc","bogus":1,"backend":{"kind":"builtIn","provider":"loadBalancer"}}`, nil, 400, api.CodeInvalid, "bogus"},
		{"nested unknown field", "POST", "/services", `{"name":"svc","backend":{"kind":"builtIn","provider":"loadBalancer","x":1}}`, nil, 400, api.CodeInvalid, "backend.x"},
		{"trailing data", "POST", "/services", valid + `{}`, nil, 400, api.CodeInvalid, ""},
		{"wrong type", "POST", "/services", `{"name":7,"backend":{"kind":"builtIn","provider":"loadBalancer"}}`, nil, 400, api.CodeInvalid, "name"},
		{"not an object", "POST", "/services", `[1,2]`, nil, 400, api.CodeInvalid, ""},
		{"empty body", "POST", "/services", ``, nil, 400, api.CodeInvalid, ""},
		{"bad enum", "POST", "/services", `{"name":"svc","backend":{"kind":"builtIn","provider":"teleporter"}}`, nil, 400, api.CodeInvalid, "backend.provider"},
		{"bad backend kind", "POST", "/services", `{"name":"svc","backend":{"kind":"magic"}}`, nil, 400, api.CodeInvalid, "backend.kind"},
		{"bad name", "POST", "/services", `{"name":"Bad_Name","backend":{"kind":"builtIn","provider":"loadBalancer"}}`, nil, 400, api.CodeInvalid, "name"},
		{"bad label", "POST", "/services", `{"name":"svc","labels":{"a b":"c"},"backend":{"kind":"builtIn","provider":"loadBalancer"}}`, nil, 400, api.CodeInvalid, `labels["a b"]`},
		{"redacted argv submitted", "POST", "/sandboxes", `{"profile":"worker","spec":{"owner":{"kind":"standalone"},"backend":"container","root":{"kind":"oci_image","source":{"kind":"reference","reference":"a:1"}},"process":{"argv":{"redacted":true,"valueCount":1},"environment":{}}}}`, nil, 400, api.CodeInvalid, "spec.process.argv"},
		{"bad profile", "POST", "/sandboxes", `{"profile":"gamer","spec":{"owner":{"kind":"standalone"},"backend":"container","root":{"kind":"oci_image","source":{"kind":"reference","reference":"a:1"}},"process":{"argv":[],"environment":{}}}}`, nil, 400, api.CodeInvalid, "profile"},
		{"bad channel", "POST", "/sessions", `{"target":{"service":{"name":"x"}},"channels":["telepathy"]}`, nil, 400, api.CodeInvalid, "channels[0]"},
		{"wrong content type", "POST", "/services", valid, []reqOpt{withHeader("Content-Type", "text/plain")}, 415, api.CodeUnsupportedMedia, ""},
		{"too large", "POST", "/services", `{"name":"` + strings.Repeat("a", api.MaxBodyBytes) + `"}`, nil, 413, api.CodeTooLarge, ""},
		{"bad limit", "GET", "/services?limit=0", "", nil, 400, api.CodeInvalid, "limit"},
		{"limit too big", "GET", "/services?limit=1001", "", nil, 400, api.CodeInvalid, "limit"},
		{"bad lifecycleState", "GET", "/services?lifecycleState=dancing", "", nil, 400, api.CodeInvalid, "lifecycleState"},
		{"labelValue without key", "GET", "/sandboxes?labelValue=x", "", nil, 400, api.CodeInvalid, "labelValue"},
		{"garbage page token", "GET", "/services?pageToken=garbage", "", nil, 400, api.CodeInvalid, "pageToken"},
		{"bad waitMs", "GET", "/services/x?changedSince=1&waitMs=soon", "", nil, 400, api.CodeInvalid, "waitMs"},
		{"bad ifMatchGeneration", "DELETE", "/services/x?ifMatchGeneration=abc", "", nil, 400, api.CodeInvalid, "ifMatchGeneration"},
		{"bad force", "DELETE", "/services/x?ifMatchGeneration=1&force=maybe", "", nil, 400, api.CodeInvalid, "force"},
		{"bad sandbox id", "GET", "/sandboxes/not-an-id", "", nil, 400, api.CodeInvalid, "id"},
		{"bad session id", "GET", "/sessions/xyz", "", nil, 400, api.CodeInvalid, "id"},
		{"unknown route", "GET", "/widgets", "", nil, 404, api.CodeNotFound, ""},
		{"method not allowed", "PUT", "/services/x", valid, nil, 405, api.CodeMethodNotAllowed, ""},
		{"not found", "GET", "/services/ghost", "", nil, 404, api.CodeNotFound, ""},
		{"not found delete", "DELETE", "/services/ghost?ifMatchGeneration=1", "", nil, 404, api.CodeNotFound, ""},
		{"not found start", "POST", "/services/ghost/start", "", nil, 404, api.CodeNotFound, ""},
		{"not found sandbox", "GET", "/sandboxes/sbx-0000", "", nil, 404, api.CodeNotFound, ""},
		{"unknown action field", "POST", "/services/ghost/start", `{"force":true}`, nil, 400, api.CodeInvalid, "force"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			e := expect(t, do(t, srv, c.method, tp+c.path, body, c.opts...), c.status, c.code)
			if c.field != "" {
				if e.Details == nil || len(e.Details.FieldViolations) == 0 || e.Details.FieldViolations[0].Field != c.field {
					t.Fatalf("want a field violation of %q: %+v", c.field, e.Details)
				}
			}
		})
	}
}

func TestAuthAndTenants(t *testing.T) {
	srv := testserver.Start(t, testserver.WithTenants("acc", "other"),
		testserver.WithCredential(server.CredentialToken, "acc-only-token", "acc"),
		testserver.WithCredential(server.CredentialAPIKey, "other-only-key", "other"))
	expect(t, do(t, srv, "GET", tp+"/services", nil, noAuth()), 401, api.CodeUnauthenticated)
	expect(t, do(t, srv, "GET", tp+"/services", nil, withHeader("Authorization", "Bearer wrong")), 401, api.CodeUnauthenticated)
	expect(t, do(t, srv, "GET", tp+"/services", nil, withHeader("Authorization", "Basic abc")), 401, api.CodeUnauthenticated)
	expect(t, do(t, srv, "GET", tp+"/services", nil, noAuth(), withHeader(api.HeaderAPIKey, "wrong")), 401, api.CodeUnauthenticated)
	// A token is not an API key.
	expect(t, do(t, srv, "GET", tp+"/services", nil, noAuth(), withHeader(api.HeaderAPIKey, srv.Token)), 401, api.CodeUnauthenticated)
	expect(t, do(t, srv, "GET", tp+"/services", nil, noAuth(), withHeader(api.HeaderAPIKey, srv.APIKey)), 200, "")
	expect(t, do(t, srv, "GET", tp+"/services", nil, withHeader("Authorization", "Bearer acc-only-token")), 200, "")
	e := expect(t, do(t, srv, "GET", "/v1/tenants/other/services", nil, withHeader("Authorization", "Bearer acc-only-token")), 403, api.CodePermissionDenied)
	if !strings.Contains(e.Message, "other") {
		t.Fatalf("permission denied must name the tenant: %s", e.Message)
	}
	expect(t, do(t, srv, "GET", tp+"/services", nil, noAuth(), withHeader(api.HeaderAPIKey, "other-only-key")), 403, api.CodePermissionDenied)
	e = expect(t, do(t, srv, "GET", "/v1/tenants/nowhere/services", nil), 404, api.CodeNotFound)
	if !strings.Contains(e.Message, `"nowhere"`) {
		t.Fatalf("unknown tenant must be named: %s", e.Message)
	}
	expect(t, do(t, srv, "GET", "/v1/tenants/Bad_Tenant/services", nil), 400, api.CodeInvalid)

	var tl api.TenantList
	do(t, srv, "GET", "/v1/tenants", nil, withHeader("Authorization", "Bearer acc-only-token")).into(t, &tl)
	if len(tl.Items) != 1 || tl.Items[0].ID != "acc" {
		t.Fatalf("tenants for acc-only token: %+v", tl)
	}
	tl = api.TenantList{}
	do(t, srv, "GET", "/v1/tenants", nil).into(t, &tl)
	if len(tl.Items) != 2 {
		t.Fatalf("tenants for the all-tenant token: %+v", tl)
	}

	// Isolation: objects of one tenant are invisible in another.
	mustCreate(t, srv, builtInService("mine", nil))
	expect(t, do(t, srv, "GET", "/v1/tenants/other/services/mine", nil), 404, api.CodeNotFound)
	var list api.ServiceList
	do(t, srv, "GET", "/v1/tenants/other/services", nil).into(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("other tenant sees %d services", len(list.Items))
	}
	if r := do(t, srv, "POST", "/v1/tenants/other/services", builtInService("mine", nil)); r.status != 201 {
		t.Fatalf("same name in another tenant: %d %s", r.status, r.body)
	}
}

func TestPagination(t *testing.T) {
	srv := testserver.Start(t)
	const n = 230
	for i := 0; i < n; i++ {
		team := "a"
		if i%3 == 0 {
			team = "b"
		}
		mustCreate(t, srv, builtInService(fmt.Sprintf("svc-%03d", i), map[string]string{"team": team, "idx": fmt.Sprint(i)}))
	}
	// Start a few so the state filter has something to select.
	for i := 0; i < 10; i++ {
		do(t, srv, "POST", fmt.Sprintf(tp+"/services/svc-%03d/start", i), nil)
	}
	collect := func(query string, limit int) []string {
		var names []string
		tok := ""
		pages := 0
		for {
			q, _ := url.ParseQuery(query)
			q.Set("limit", fmt.Sprint(limit))
			if tok != "" {
				q.Set("pageToken", tok)
			}
			l := decoded[api.ServiceList](t, do(t, srv, "GET", tp+"/services?"+q.Encode(), nil), 200)
			if len(l.Items) > limit {
				t.Fatalf("page of %d > limit %d", len(l.Items), limit)
			}
			for _, s := range l.Items {
				names = append(names, s.Metadata.Name)
			}
			pages++
			if l.Metadata.NextPageToken == "" {
				return names
			}
			tok = l.Metadata.NextPageToken
			if pages > 1000 {
				t.Fatal("pagination does not end")
			}
		}
	}
	all := collect("", 7)
	if len(all) != n {
		t.Fatalf("got %d services over pages, want %d", len(all), n)
	}
	for i := 1; i < len(all); i++ {
		if all[i] <= all[i-1] {
			t.Fatalf("order not stable/unique at %d: %s after %s", i, all[i], all[i-1])
		}
	}
	if b := collect("labelKey=team&labelValue=b", 9); len(b) != (n+2)/3 {
		t.Fatalf("team=b: %d", len(b))
	}
	if b := collect("labelKey=idx", 50); len(b) != n {
		t.Fatalf("labelKey only: %d", len(b))
	}
	if r := collect("lifecycleState=running&labelKey=team&labelValue=b", 2); len(r) != 4 {
		t.Fatalf("running team=b: %v", r)
	}
	if d := collect("", 1000); len(d) != n {
		t.Fatalf("limit 1000: %d", len(d))
	}
	var def api.ServiceList
	do(t, srv, "GET", tp+"/services", nil).into(t, &def)
	if len(def.Items) != api.DefaultPageLimit || def.Metadata.NextPageToken == "" {
		t.Fatalf("default page: %d items", len(def.Items))
	}
	// Tampered tokens and tokens replayed against another filter are rejected.
	tok := def.Metadata.NextPageToken
	tampered := tok[:len(tok)-2] + "AA"
	if tampered == tok {
		tampered = tok[:len(tok)-2] + "BB"
	}
	expect(t, do(t, srv, "GET", tp+"/services?pageToken="+url.QueryEscape(tampered), nil), 400, api.CodeInvalid)
	expect(t, do(t, srv, "GET", tp+"/services?labelKey=team&pageToken="+url.QueryEscape(tok), nil), 400, api.CodeInvalid)
	expect(t, do(t, srv, "GET", tp+"/sandboxes?pageToken="+url.QueryEscape(tok), nil), 400, api.CodeInvalid)
}

func TestLongPoll(t *testing.T) {
	srv := testserver.Start(t)
	s := mustCreate(t, srv, builtInService("svc", nil))
	rv := s.Metadata.ResourceVersion
	// Already different: answers at once.
	r := do(t, srv, "GET", tp+"/services/svc?changedSince=0&waitMs=60000", nil)
	expect(t, r, 200, "")
	// Unchanged until waitMs: returns the current object.
	r = do(t, srv, "GET", tp+"/services/svc?changedSince="+rv+"&waitMs=30", nil)
	var same api.Service
	r.into(t, &same)
	if same.Metadata.ResourceVersion != rv {
		t.Fatalf("timeout must return the current object")
	}
	// A waiter wakes as soon as the object changes.
	type result struct {
		svc  api.Service
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		r := do(t, srv, "GET", tp+"/services/svc?changedSince="+rv+"&waitMs=60000", nil)
		var got api.Service
		r.into(t, &got)
		done <- result{got, time.Since(start)}
	}()
	time.Sleep(50 * time.Millisecond)
	do(t, srv, "PATCH", tp+"/services/svc", map[string]any{"labels": map[string]string{"x": "y"}, "ifMatchGeneration": 1})
	select {
	case res := <-done:
		if res.svc.Metadata.ResourceVersion == rv || res.svc.Metadata.Labels["x"] != "y" {
			t.Fatalf("woke with a stale object: %+v", res.svc.Metadata)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("long-poll did not wake on change")
	}
	// A deleted object wakes its waiters with 404.
	rv2 := getService(t, srv, "svc").Metadata.ResourceVersion
	gone := make(chan int, 1)
	go func() {
		gone <- do(t, srv, "GET", tp+"/services/svc?changedSince="+rv2+"&waitMs=60000", nil).status
	}()
	time.Sleep(50 * time.Millisecond)
	do(t, srv, "DELETE", tp+"/services/svc?ifMatchGeneration=2", nil)
	select {
	case st := <-gone:
		if st != 404 {
			t.Fatalf("waiter on a deleted object got %d", st)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("long-poll did not wake on delete")
	}
}

func TestDrainReturnsUnavailable(t *testing.T) {
	srv := testserver.Start(t)
	s := mustCreate(t, srv, builtInService("svc", nil))
	// A long-poll in flight is answered when the server drains.
	var wg sync.WaitGroup
	wg.Add(1)
	var status int
	go func() {
		defer wg.Done()
		status = do(t, srv, "GET", tp+"/services/svc?changedSince="+s.Metadata.ResourceVersion+"&waitMs=60000", nil).status
	}()
	time.Sleep(50 * time.Millisecond)
	srv.Server.Drain()
	wg.Wait()
	if status != 200 {
		t.Fatalf("in-flight long-poll got %d", status)
	}
	r := do(t, srv, "GET", tp+"/services/svc", nil)
	e := expect(t, r, 503, api.CodeUnavailable)
	if r.header.Get("Retry-After") == "" || e.Details == nil || e.Details.RetryAfterSeconds < 1 {
		t.Fatalf("unavailable without Retry-After: %v %+v", r.header, e)
	}
}

func TestRateLimited(t *testing.T) {
	srv := testserver.Start(t, func(o *testserver.Options) { o.RateLimit = 0.001 })
	var last resp
	for i := 0; i < 5; i++ {
		last = do(t, srv, "GET", tp+"/services", nil)
		if last.status == 429 {
			break
		}
	}
	expect(t, last, 429, api.CodeRateLimited)
	if last.header.Get("Retry-After") == "" {
		t.Fatal("rate.limited without Retry-After")
	}
	// Another credential has its own budget.
	expect(t, do(t, srv, "GET", tp+"/services", nil, noAuth(), withHeader(api.HeaderAPIKey, srv.APIKey)), 200, "")
}

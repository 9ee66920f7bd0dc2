package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
)

// BenchmarkListPages measures list throughput: 64 concurrent clients walk
// the pages of GET /v1/tenants/acc/services (limit=100, following
// nextPageToken to the end and starting over) through the server's HTTP
// handler on a loopback listener, over 10,000 and 100,000 services loaded
// from the store, and reports req/s. "none" lists with a filter that
// matches no service (labelKey=absent): one page, empty.
//
//	go test ./internal/server -run '^$' -bench ListPages -benchtime 5000x
func BenchmarkListPages(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			srv := listBenchServer(b, n)
			defer srv.Close()
			for _, filter := range []string{"all", "none"} {
				b.Run(filter, func(b *testing.B) {
					q := url.Values{"limit": {"100"}}
					if filter == "none" {
						q.Set("labelKey", "absent")
					}
					benchWalkPages(b, srv, "/v1/tenants/acc/services?"+q.Encode())
				})
			}
		})
	}
}

// listBenchServer serves n built-in services in tenant acc (stopped, each
// with two labels), loaded from the store as after a restart.
func listBenchServer(b *testing.B, n int) *httptest.Server {
	b.Helper()
	seedStore := NewMemStore()
	seed, err := New(Config{Store: seedStore, Tenants: []string{"acc"}, Credentials: []Credential{{Kind: CredentialToken, Secret: "t", Tenants: []string{"*"}}}})
	if err != nil {
		b.Fatal(err)
	}
	h := seed.Handler()
	req := httptest.NewRequest("POST", "/v1/tenants/acc/services", strings.NewReader(`{"name":"tmpl","labels":{"team":"a","idx":"0"},"backend":{"kind":"builtIn","provider":"loadBalancer"}}`))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 201 {
		b.Fatalf("create template: %d %s", rec.Code, rec.Body)
	}
	// The stored record of the template (the domain's serviceRec).
	type serviceRec struct {
		Service api.Service `json:"service"`
		Desired string      `json:"desired"`
	}
	var tmpl *serviceRec
	if err := store.ScanJSON(seedStore, "services", store.Range{Tenant: "acc"}, func(_, _ string, r *serviceRec) error {
		tmpl = r
		return nil
	}); err != nil || tmpl == nil {
		b.Fatalf("read the template: %v", err)
	}
	if err := seed.Close(); err != nil {
		b.Fatal(err)
	}
	st := NewMemStore()
	teams := []string{"a", "b", "c"}
	for i := range n {
		r := *tmpl
		m := &r.Service.Metadata
		m.Name = fmt.Sprintf("svc-%06d", i)
		m.ResourceVersion = fmt.Sprint(i + 1)
		m.Labels = map[string]string{"team": teams[i%3], "idx": fmt.Sprint(i)}
		data, err := json.Marshal(&r)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Put("services", "acc", m.Name, data); err != nil {
			b.Fatal(err)
		}
	}
	s, err := New(Config{Store: st, Tenants: []string{"acc"}, Credentials: []Credential{{Kind: CredentialToken, Secret: "t", Tenants: []string{"*"}}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return httptest.NewServer(s.Handler()) // 127.0.0.1
}

var nextTokenField = []byte(`"nextPageToken":"`)

// benchWalkPages runs 64 clients, each walking the pages of list from the
// first to the last and starting over, and reports req/s.
func benchWalkPages(b *testing.B, srv *httptest.Server, list string) {
	const clients = 64
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients}}
	defer client.CloseIdleConnections()
	get := func(path string, buf *bytes.Buffer) error {
		req, err := http.NewRequest("GET", srv.URL+path, http.NoBody)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer t")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		buf.Reset()
		if _, err := io.Copy(buf, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, buf.Bytes())
		}
		return nil
	}
	// One walk first, so the timed walks see what a server that has
	// answered lists before has (each item encoded once per version).
	var buf bytes.Buffer
	for tok := ""; ; {
		path := list
		if tok != "" {
			path += "&pageToken=" + url.QueryEscape(tok)
		}
		if err := get(path, &buf); err != nil {
			b.Fatal(err)
		}
		if tok = nextToken(buf.Bytes()); tok == "" {
			break
		}
	}
	var pages atomic.Int64
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((clients + procs - 1) / procs) // RunParallel runs parallelism × GOMAXPROCS goroutines
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var buf bytes.Buffer
		tok := ""
		for pb.Next() {
			path := list
			if tok != "" {
				path += "&pageToken=" + url.QueryEscape(tok)
			}
			if err := get(path, &buf); err != nil {
				b.Error(err)
				return
			}
			pages.Add(1)
			tok = nextToken(buf.Bytes())
		}
	})
	b.ReportMetric(float64(pages.Load())/time.Since(start).Seconds(), "req/s")
}

// nextToken finds a page's nextPageToken. The token is base64url and ".",
// never escaped, so there is no need to decode the whole page (the clients
// share the machine with the server).
func nextToken(page []byte) string {
	i := bytes.LastIndex(page, nextTokenField)
	if i < 0 {
		return ""
	}
	rest := page[i+len(nextTokenField):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

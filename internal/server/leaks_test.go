package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
)

func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	cfg.Credentials = append(cfg.Credentials, Credential{Kind: CredentialToken, Secret: "t", Tenants: []string{"*"}, Name: "test"})
	cfg.Tenants = append(cfg.Tenants, "acc")
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func waitWatchers(t *testing.T, s *Server, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.Domain().Watchers() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d watchers registered, want %d", s.Domain().Watchers(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLongPollWatchersAreReleased: every way a long-poll ends (the object is
// missing, waitMs passes, the object changes, the client goes away) removes
// its watcher.
func TestLongPollWatchersAreReleased(t *testing.T) {
	s := newTestServer(t, Config{})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	get := func(ctx context.Context, path string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+path, http.NoBody)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := ts.Client().Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	ctx := t.Context()

	// Missing objects of every kind, many distinct names.
	for i := range 50 {
		for _, p := range []string{"/services/ghost-%d", "/sandboxes/sbx-ghost%d", "/sessions/ses-ghost%d"} {
			st, err := get(ctx, fmt.Sprintf("/v1/tenants/acc"+p, i)+"?changedSince=1&waitMs=60000")
			if err != nil || st != 404 {
				t.Fatalf("long-poll on a missing object: %d %v", st, err)
			}
		}
	}
	waitWatchers(t, s, 0)

	body := `{"name":"web","backend":{"kind":"builtIn","provider":"loadBalancer"}}`
	req, err := http.NewRequestWithContext(t.Context(), "POST", ts.URL+"/v1/tenants/acc/services", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer t")
	resp, err := ts.Client().Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create: %v %v", resp, err)
	}
	resp.Body.Close()
	rv := s.Domain().ResourceVersion(domain.KindService, "acc", "web")

	// waitMs passes.
	if st, err := get(ctx, "/v1/tenants/acc/services/web?changedSince="+rv+"&waitMs=50"); err != nil || st != 200 {
		t.Fatalf("timed-out long-poll: %d %v", st, err)
	}
	waitWatchers(t, s, 0)

	// The client goes away while the server holds the request.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = get(cctx, "/v1/tenants/acc/services/web?changedSince="+rv+"&waitMs=60000")
	}()
	waitWatchers(t, s, 1)
	cancel()
	<-done
	waitWatchers(t, s, 0)
}

// discardWriter is a minimal http.ResponseWriter for in-process benchmarks.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

// BenchmarkLongPollMissingMemory sends 1,000,000 long-polls on distinct
// missing names (each op is the whole million) and reports how much the
// live heap grew and how many watchers were left: both must stay flat
// (target ≤ 8 MB).
//
//	go test ./internal/server -run '^$' -bench LongPollMissingMemory
func BenchmarkLongPollMissingMemory(b *testing.B) {
	const requests = 1_000_000
	s := newTestServer(b, Config{})
	h := s.Handler()
	var ms runtime.MemStats
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var growth float64
	for range b.N {
		before := heap()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) * 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > requests {
						return
					}
					r := httptest.NewRequest("GET", fmt.Sprintf("/v1/tenants/acc/services/ghost-%d?changedSince=1&waitMs=60000", i), http.NoBody)
					r.Header.Set("Authorization", "Bearer t")
					w := &discardWriter{h: http.Header{}}
					h.ServeHTTP(w, r)
					if w.status != 404 {
						b.Errorf("status %d, want 404", w.status)
						return
					}
				}
			}()
		}
		wg.Wait()
		after := heap()
		growth = max(growth, (float64(after)-float64(before))/(1<<20))
	}
	b.ReportMetric(growth, "heap-MB-growth/1M-req")
	b.ReportMetric(float64(s.Domain().Watchers()), "watchers-left")
	if growth > 8 {
		b.Errorf("the heap grew by %.1f MB over %d long-polls on missing names (want ≤ 8 MB)", growth, requests)
	}
}

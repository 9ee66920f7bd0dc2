package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// BenchmarkServerThroughput measures GET and create throughput with 64
// concurrent clients against a loopback server (in-memory and bbolt
// stores) and reports req/s.
//
//	go test ./internal/server -run '^$' -bench ServerThroughput
func BenchmarkServerThroughput(b *testing.B) {
	const clients = 64
	for _, store := range []string{"memory", "bbolt"} {
		b.Run(store, func(b *testing.B) {
			opts := []func(*testserver.Options){}
			if store == "bbolt" {
				opts = append(opts, testserver.WithDataDir(b.TempDir()))
			}
			srv := testserver.Start(b, opts...)
			client := &http.Client{Transport: &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128}}
			send := func(method, path string, body []byte) int {
				var rd io.Reader
				if body != nil {
					rd = bytes.NewReader(body)
				}
				req, err := http.NewRequestWithContext(b.Context(), method, srv.URL+path, rd)
				if err != nil {
					b.Error(err)
					return 0
				}
				req.Header.Set("Authorization", "Bearer "+srv.Token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return 0
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode
			}
			if st := send("POST", tp+"/services", []byte(`{"name":"bench","backend":{"kind":"builtIn","provider":"loadBalancer"}}`)); st != 201 {
				b.Fatalf("seed: %d", st)
			}
			run := func(b *testing.B, f func(i int64) int, want int) {
				var n atomic.Int64
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((clients + procs - 1) / procs) // RunParallel runs parallelism × GOMAXPROCS goroutines
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if st := f(n.Add(1)); st != want {
							b.Errorf("status %d, want %d", st, want)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			}
			b.Run("get", func(b *testing.B) {
				run(b, func(int64) int { return send("GET", tp+"/services/bench", nil) }, 200)
			})
			var seq atomic.Int64
			b.Run("create", func(b *testing.B) {
				run(b, func(int64) int {
					body := fmt.Sprintf(`{"name":"s-%d","backend":{"kind":"builtIn","provider":"loadBalancer"}}`, seq.Add(1))
					return send("POST", tp+"/services", []byte(body))
				}, 201)
			})
		})
	}
}

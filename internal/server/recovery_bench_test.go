package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// BenchmarkRestartRecovery restarts a server whose durable store holds
// 2,000 running services (each with its sandbox) and reports how long after
// the process starts (the store is opened) the first request is answered,
// and how long until every service is running again. The simulated runtime
// has the server command's default delays (500ms to start a sandbox).
//
//	go test ./internal/server -run '^$' -bench RestartRecovery
func BenchmarkRestartRecovery(b *testing.B) {
	const services = 2000
	dir := b.TempDir()
	seedRunningServices(b, dir, services)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 2 * time.Minute}
	get := func(u string, v any) (int, error) {
		req, err := http.NewRequest("GET", u, http.NoBody)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+testserver.Token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if v == nil {
			_, err = io.Copy(io.Discard, resp.Body)
		} else {
			err = json.NewDecoder(resp.Body).Decode(v)
		}
		return resp.StatusCode, err
	}
	var firstTotal, allTotal time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now() // the process starts
		st, err := server.OpenBoltStore(dir)
		if err != nil {
			b.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		base := "http://" + ln.Addr().String() + tp
		first := make(chan error, 1)
		var firstAt time.Duration
		go func() { // a client asking as soon as the port is open
			_, err := get(base+"/services/svc-0000", nil)
			firstAt = time.Since(start)
			first <- err
		}()
		srv, err := server.New(server.Config{
			Store:       st,
			Runtime:     runtimes.NewSimulated(runtimes.SimulatedOptions{StartDelay: 500 * time.Millisecond, StopDelay: 200 * time.Millisecond}),
			Credentials: []server.Credential{{Kind: server.CredentialToken, Secret: testserver.Token, Tenants: []string{"*"}}},
			Tenants:     []string{"acc"},
		})
		if err != nil {
			b.Fatal(err)
		}
		hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		if err := <-first; err != nil {
			b.Fatalf("first request: %v", err)
		}
		firstTotal += firstAt
		for {
			n, err := countRunning(get, base)
			if err != nil {
				b.Fatal(err)
			}
			if n == services {
				break
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("only %d of %d services running after %s", n, services, time.Since(start))
			}
			time.Sleep(20 * time.Millisecond)
		}
		allTotal += time.Since(start)
		b.StopTimer()
		ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
		_ = hs.Shutdown(ctx)
		cancel()
		if err := srv.Close(); err != nil { // the store still says running, as after a crash
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(firstTotal.Milliseconds())/float64(b.N), "ms-to-first-answer")
	b.ReportMetric(float64(allTotal.Milliseconds())/float64(b.N), "ms-to-all-running")
}

// countRunning counts the running services of tenant acc, page by page.
func countRunning(get func(string, any) (int, error), base string) (int, error) {
	n, token := 0, ""
	for {
		q := url.Values{"lifecycleState": {api.ServiceRunning}, "limit": {"1000"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		var page api.ServiceList
		st, err := get(base+"/services?"+q.Encode(), &page)
		if err != nil {
			return 0, fmt.Errorf("list services: %w", err)
		}
		if st != 200 {
			return 0, fmt.Errorf("list services: status %d", st)
		}
		n += len(page.Items)
		if token = page.Metadata.NextPageToken; token == "" {
			return n, nil
		}
	}
}

// seedRunningServices creates n sandbox services in dir's store, starts
// them and waits until all run.
func seedRunningServices(b *testing.B, dir string, n int) {
	b.Helper()
	srv := testserver.Start(b, testserver.WithDataDir(dir))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				name := fmt.Sprintf("svc-%04d", i)
				if r := do(b, srv, "POST", tp+"/services", sandboxService(name, "registry.example/api:1")); r.status != 201 {
					b.Errorf("create %s: %d %s", name, r.status, r.body)
					return
				}
				if r := do(b, srv, "POST", tp+"/services/"+name+"/start", nil); r.status != 200 {
					b.Errorf("start %s: %d %s", name, r.status, r.body)
					return
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	client := &http.Client{}
	get := func(u string, v any) (int, error) {
		req, err := http.NewRequest("GET", u, http.NoBody)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+srv.Token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		c, err := countRunning(get, srv.URL+tp)
		if err != nil {
			b.Fatal(err)
		}
		if c == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("seed: %d of %d services running", c, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.Stop()
}

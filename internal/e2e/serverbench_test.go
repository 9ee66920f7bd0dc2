package e2e

// The server's figures (issue 11 §7), measured over loopback through the
// public API only (testserver, the client, the server binary):
//
//	make bench-server
//	go test ./internal/e2e -run '^$' -bench '^BenchmarkServer' -benchtime 2s
//
// Every client runs in this process, on the same cores as the server: the
// figures are what one machine does serving itself, a lower bound of the
// server alone.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

const benchTenantPath = "/v1/tenants/acc"

// benchHTTP is an HTTP client that keeps a connection per concurrent
// caller, so a benchmark measures requests, not TCP handshakes.
func benchHTTP(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}}
}

// send sends an authenticated request with extra headers hdr (nil for
// none) and a JSON body (nil for none) and returns the status and the body.
func send(hc *http.Client, method, url string, hdr http.Header, body []byte) (int, []byte, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+testserver.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// expect sends a request (see send) and fails unless it gets status want.
func expect(hc *http.Client, method, url string, hdr http.Header, body []byte, want int) error {
	st, got, err := send(hc, method, url, hdr, body)
	if err == nil && st != want {
		err = fmt.Errorf("%s %s: %d %s", method, url, st, got)
	}
	return err
}

// runClients runs b.N calls of op spread over exactly clients goroutines
// (whatever GOMAXPROCS is) and reports the rate of calls per second (in
// unit), their latency and the process's CPU time per call. A failing call
// fails the benchmark.
func runClients(b *testing.B, clients int, unit string, op func(i int64) error) {
	b.Helper()
	var next atomic.Int64
	lats := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	cpu0, cpuOK := processCPU()
	for c := range clients {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
				lats[c] = append(lats[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, _ := processCPU()
	b.StopTimer()
	lat := slices.Concat(lats...)
	if len(lat) == 0 {
		return
	}
	if cpuOK {
		// CPU of the whole process (server and clients) per call: unlike
		// the rate, it hardly moves when other work shares the machine.
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(len(lat)), "cpu-µs/op")
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), unit)
	reportLatency(b, lat)
}

// reportLatency reports the p50 and p99 of latencies, in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(percentile(lat, 50), "p50-ms")
	b.ReportMetric(percentile(lat, 99), "p99-ms")
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted durations,
// in milliseconds.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

func benchService(name string) []byte {
	return fmt.Appendf(nil, `{"name":%q,"backend":{"kind":"builtIn","provider":"loadBalancer"}}`, name)
}

// BenchmarkServerGet: GETs of one service by 64 concurrent clients against
// a server with its default, durable (bbolt) store; req/s and latency.
func BenchmarkServerGet(b *testing.B) {
	const clients = 64
	srv := testserver.Start(b, testserver.WithDataDir(b.TempDir()))
	hc := benchHTTP(clients)
	if err := expect(hc, http.MethodPost, srv.URL+benchTenantPath+"/services", nil, benchService("bench"), http.StatusCreated); err != nil {
		b.Fatalf("seed: %v", err)
	}
	url := srv.URL + benchTenantPath + "/services/bench"
	runClients(b, clients, "req/s", func(int64) error { return expect(hc, http.MethodGet, url, nil, nil, http.StatusOK) })
}

// BenchmarkServerDurableCreate: service creates against the durable
// (bbolt, fsync per commit) store by 1, 16 and 64 concurrent clients;
// creates/s and latency. The idempotent/… sub-benchmarks send each create
// with its own Idempotency-Key, as internal/client (so the provider) does.
func BenchmarkServerDurableCreate(b *testing.B) {
	run := func(b *testing.B, clients int, idempotent bool) {
		srv := testserver.Start(b, testserver.WithDataDir(b.TempDir()))
		hc := benchHTTP(clients)
		url := srv.URL + benchTenantPath + "/services"
		runClients(b, clients, "creates/s", func(i int64) error {
			var hdr http.Header
			if idempotent {
				hdr = http.Header{api.HeaderIdempotencyKey: {"bench-" + strconv.FormatInt(i, 10)}}
			}
			return expect(hc, http.MethodPost, url, hdr, benchService("s-"+strconv.FormatInt(i, 10)), http.StatusCreated)
		})
	}
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { run(b, clients, false) })
	}
	b.Run("idempotent", func(b *testing.B) {
		for _, clients := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { run(b, clients, true) })
		}
	})
}

// BenchmarkServerLongPollWake: 1,000 clients long-poll one service
// (GET ?changedSince=<rv>); one PATCH changes it. Each iteration measures,
// for every waiter, the time from sending the PATCH to having read the
// waiter's answer, and reports its p50 and p99 (and the slowest), and the
// process's CPU per waiter woken. The server keeps an in-memory store, so
// the figure is the wake path's, not fsync's.
func BenchmarkServerLongPollWake(b *testing.B) {
	const waiters = 1000
	var arrived atomic.Int64
	srv := testserver.Start(b, func(o *testserver.Options) {
		o.WrapHandler = func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Has(api.QueryChangedSince) {
					arrived.Add(1)
				}
				h.ServeHTTP(w, r)
			})
		}
	})
	hc := benchHTTP(waiters + 8)
	c, err := client.New(client.Config{Endpoint: srv.URL, TenantID: srv.Tenant, Token: srv.Token,
		Getenv: func(string) string { return "" }, HomeDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cur, err := c.Services.Create(ctx, testfixtures.BuiltInService("lp", api.ProviderLoadBalancer, nil))
	if err != nil {
		b.Fatal(err)
	}
	url := srv.URL + benchTenantPath + "/services/lp?" + api.QueryWaitMs + "=60000&" + api.QueryChangedSince + "="
	var lat []time.Duration
	var wakeCPU time.Duration // process CPU from the write until every waiter has its answer
	b.ResetTimer()
	for i := range b.N {
		since := cur.Metadata.ResourceVersion
		arrived.Store(0)
		var wrote atomic.Int64 // when the PATCH was sent (UnixNano)
		answers := make([]time.Duration, waiters)
		errs := make(chan error, waiters)
		var wg sync.WaitGroup
		for w := range waiters {
			wg.Go(func() {
				st, body, err := send(hc, http.MethodGet, url+since, nil, nil)
				answers[w] = time.Duration(time.Now().UnixNano() - wrote.Load())
				var got api.Service
				switch {
				case err != nil:
				case st != http.StatusOK:
					err = fmt.Errorf("long-poll: %d %s", st, body)
				default:
					if err = json.Unmarshal(body, &got); err == nil && got.Metadata.ResourceVersion == since {
						err = fmt.Errorf("long-poll answered without the change (resourceVersion %s)", since)
					}
				}
				if err != nil {
					errs <- err
				}
			})
		}
		// Every waiter has reached the server; a moment more lets the last
		// ones register their watch (one that has not yet sees the change
		// at once, which is still an answer to the write).
		for deadline := time.Now().Add(30 * time.Second); arrived.Load() < waiters; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d long-polls reached the server", arrived.Load(), waiters)
			}
		}
		time.Sleep(100 * time.Millisecond)
		cpu0, _ := processCPU()
		wrote.Store(time.Now().UnixNano())
		cur, err = c.Services.Update(ctx, "lp", api.UpdateServiceRequest{
			Labels: labels(map[string]string{"round": strconv.Itoa(i)}), IfMatchGeneration: gen(cur.Metadata.Generation)})
		if err != nil {
			b.Fatal(err)
		}
		wg.Wait()
		cpu1, cpuOK := processCPU()
		if cpuOK {
			wakeCPU += cpu1 - cpu0
		}
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		lat = append(lat, answers...)
	}
	b.StopTimer()
	reportLatency(b, lat)
	b.ReportMetric(percentile(lat, 100), "max-ms")
	if wakeCPU > 0 {
		// Load-independent: what waking one waiter costs (server and client).
		b.ReportMetric(float64(wakeCPU.Microseconds())/float64(len(lat)), "cpu-µs/waiter")
	}
}

// BenchmarkServerRSS builds the provider binary, starts
// `terraform-provider-nimbus server` with a data dir on loopback, creates
// 10,000 services and reads the process's resident set size (VmRSS; VmHWM
// is its peak; RssAnon and RssFile split it) from /proc. Linux only. Each
// iteration starts a fresh server: one is enough (-benchtime 1x).
//
// Sub-benchmarks: "client" creates through internal/client, which sends an
// Idempotency-Key with every create (the server keeps each key's record,
// with the response, for api.IdempotencyKeyTTL); "no-idempotency-key" sends
// the same creates as plain POSTs, so the difference is what those records
// cost.
func BenchmarkServerRSS(b *testing.B) {
	if goruntime.GOOS != "linux" {
		b.Skip("reads /proc/<pid>/status: Linux only")
	}
	exe := buildProvider(b)
	creators := []struct {
		name    string
		creator func(b *testing.B, endpoint string) func(name string) error
	}{
		{"client", func(b *testing.B, endpoint string) func(string) error {
			c, err := client.New(client.Config{Endpoint: endpoint, TenantID: "acc", Token: testserver.Token,
				Getenv: func(string) string { return "" }, HomeDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			return func(name string) error {
				_, err := c.Services.Create(context.Background(), testfixtures.BuiltInService(name, api.ProviderLoadBalancer, map[string]string{"team": "bench"}))
				return err
			}
		}},
		{"no-idempotency-key", func(_ *testing.B, endpoint string) func(string) error {
			hc := benchHTTP(64)
			return func(name string) error {
				body, err := json.Marshal(testfixtures.BuiltInService(name, api.ProviderLoadBalancer, map[string]string{"team": "bench"}))
				if err != nil {
					return err
				}
				return expect(hc, http.MethodPost, endpoint+benchTenantPath+"/services", nil, body, http.StatusCreated)
			}
		}},
	}
	for _, cr := range creators {
		b.Run(cr.name, func(b *testing.B) {
			sum := map[string]float64{}
			b.ResetTimer()
			for range b.N {
				for unit, v := range serverRSS(b, exe, 10000, cr.creator) {
					sum[unit] += v
				}
			}
			b.StopTimer()
			for unit, v := range sum {
				b.ReportMetric(v/float64(b.N), unit)
			}
		})
	}
}

// serverRSS starts a server process, creates objects services in it with
// 64 concurrent creators and returns its memory figures (MB).
func serverRSS(b *testing.B, exe string, objects int64, newCreate func(*testing.B, string) func(string) error) map[string]float64 {
	b.Helper()
	p := startServerProcess(b, exe)
	before, err := procMemory(p.pid)
	if err != nil {
		b.Fatal(err)
	}
	create := newCreate(b, p.endpoint)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1); i <= objects; i = next.Add(1) {
				name := fmt.Sprintf("svc-%05d", i)
				if err := create(name); err != nil {
					b.Errorf("create %s: %v", name, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	after, err := procMemory(p.pid)
	if err != nil {
		b.Fatal(err)
	}
	p.stop(b)
	db, err := dirSize(p.dataDir)
	if err != nil {
		b.Fatal(err)
	}
	k := strconv.FormatInt(objects/1000, 10) + "k"
	return map[string]float64{
		"MB-rss-empty": before["VmRSS"],
		"MB-rss-" + k:  after["VmRSS"],
		"MB-peak-" + k: after["VmHWM"],
		// Anonymous memory is the Go heap and runtime; file-backed is the
		// binary and the pages of the bbolt file it has mapped and touched.
		"MB-anon-" + k:     after["RssAnon"],
		"MB-file-" + k:     after["RssFile"],
		"MB-data-dir-" + k: float64(db) / (1 << 20),
	}
}

// buildProvider builds the provider binary (the module's main package)
// into a temporary directory.
func buildProvider(b *testing.B) string {
	b.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Fatalf("building the server binary needs the go command on PATH: %v", err)
	}
	exe := filepath.Join(b.TempDir(), "terraform-provider-nimbus")
	cmd := exec.CommandContext(context.Background(), goTool, "build", "-o", exe, "github.com/nimbus/terraform-provider-nimbus")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

type serverProcess struct {
	cmd      *exec.Cmd
	pid      int
	endpoint string
	dataDir  string
	exited   chan struct{} // closed once the process has been reaped
	waitErr  error         // cmd.Wait's, once exited is closed
	logs     *lockedBuffer
}

// startServerProcess runs `exe server` on 127.0.0.1 with a fresh data dir
// and the test token (in a config file: flags show in ps), and waits for
// the endpoint it logs.
func startServerProcess(b *testing.B, exe string) *serverProcess {
	b.Helper()
	dir := b.TempDir()
	cfg, err := json.Marshal(map[string]any{"tokens": []map[string]any{{"secret": testserver.Token, "tenants": []string{"acc"}}}})
	if err != nil {
		b.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "nimbus.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	cmd := exec.CommandContext(context.Background(), exe, "server", "--config", cfgPath, "--data-dir", dataDir,
		"--listen", "127.0.0.1:0", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, pid: cmd.Process.Pid, dataDir: dataDir, exited: make(chan struct{}), logs: &lockedBuffer{}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			_, _ = p.logs.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, Endpoint string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Endpoint != "" {
				select {
				case found <- line.Endpoint:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	b.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.endpoint = <-found:
	case <-p.exited:
		b.Fatalf("server exited: %v\n%s", p.waitErr, p.logs.String())
	case <-time.After(60 * time.Second):
		b.Fatalf("server did not log its endpoint within 60s:\n%s", p.logs.String())
	}
	return p
}

// stop shuts the server down gracefully (SIGTERM) and checks it exits 0.
func (p *serverProcess) stop(b *testing.B) {
	b.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		b.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			b.Fatalf("server exit: %v\n%s", p.waitErr, p.logs.String())
		}
	case <-time.After(30 * time.Second):
		b.Fatalf("server did not stop within 30s:\n%s", p.logs.String())
	}
}

// dirSize is the total size of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n += fi.Size()
		return nil
	})
	return n, err
}

// procMemory returns the memory fields (VmRSS, VmHWM, RssAnon, RssFile, …)
// of /proc/<pid>/status, in MB.
func procMemory(pid int) (map[string]float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	mb := map[string]float64{}
	for line := range strings.Lines(string(data)) {
		name, v, ok := strings.Cut(line, ":")
		kb, isKB := strings.CutSuffix(strings.TrimSpace(v), " kB")
		if !ok || !isKB {
			continue
		}
		n, err := strconv.ParseFloat(kb, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/status: %s: %w", pid, name, err)
		}
		mb[name] = n / 1024
	}
	for _, f := range []string{"VmRSS", "VmHWM", "RssAnon", "RssFile"} {
		if _, ok := mb[f]; !ok {
			return nil, fmt.Errorf("/proc/%d/status has no %s", pid, f)
		}
	}
	return mb, nil
}

package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
)

// Checker checks external services over HTTP.
type Checker struct {
	Client  *http.Client
	Timeout time.Duration
}

// NewChecker returns a checker whose single checks time out after
// timeout (default 5s). It does not follow redirects: a health check judges
// the endpoint itself, and a 3xx is unhealthy.
func NewChecker(timeout time.Duration) *Checker {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &Checker{Timeout: timeout, Client: &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// HealthURL joins an external endpoint URL and a health-check path:
// ("http://h:1/api/", "/healthz") → "http://h:1/api/healthz"; the path goes
// after the URL's own path, before its query and fragment
// ("http://h/base?region=eu", "/healthz") → "http://h/base/healthz?region=eu".
// An empty path checks the URL itself.
func HealthURL(rawURL, path string) string {
	if path == "" {
		return rawURL
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return strings.TrimRight(rawURL, "/") + path // Check reports it as invalid
	}
	if u.RawPath != "" {
		u.RawPath = strings.TrimRight(u.RawPath, "/") + (&url.URL{Path: path}).EscapedPath()
	}
	u.Path = strings.TrimRight(u.Path, "/") + path
	return u.String()
}

// Check performs one GET of rawURL+path; any 2xx is healthy. detail says
// what was checked and what came back ("GET http://127.0.0.1:9/healthz:
// connection refused", "GET …: HTTP 503 Service Unavailable"); it never
// contains the auth token or a password in the URL.
func (h *Checker) Check(ctx context.Context, rawURL, path string, auth *api.ExternalAuth) (healthy bool, detail string) {
	target := HealthURL(rawURL, path)
	shown := target
	u, err := url.Parse(target)
	if err == nil {
		shown = redactURL(u)
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false, fmt.Sprintf("GET %s: not an absolute http or https URL", redactUnparsable(target))
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, http.NoBody)
	if err != nil {
		return false, fmt.Sprintf("GET %s: not a valid request URL", shown)
	}
	req.Header.Set("User-Agent", "nimbus-health-checker")
	if auth != nil && auth.Kind == api.AuthKindBearer && auth.Token != nil {
		req.Header.Set("Authorization", "Bearer "+auth.Token.Value)
	}
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return false, fmt.Sprintf("GET %s: no response within %s", shown, timeout)
		}
		return false, fmt.Sprintf("GET %s: %s", shown, describeNetErr(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	// resp.Status is "503 Service Unavailable"; a server may send any reason
	// text, so only the standard one is shown.
	status := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if text := http.StatusText(resp.StatusCode); text != "" {
		status += " " + text
	}
	return resp.StatusCode >= 200 && resp.StatusCode < 300, fmt.Sprintf("GET %s: %s", shown, status)
}

// redactURL hides the password and the values of query parameters named
// like secrets (api.SecretParamName). The API rejects such URLs, but
// objects stored before it did may still hold them.
func redactURL(u *url.URL) string {
	c := *u
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			if api.SecretParamName(k) {
				for i := range vs {
					vs[i] = "xxxxx"
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.Redacted()
}

// redactUnparsable drops everything before an "@" in a URL that could not
// be parsed, where a password could hide.
func redactUnparsable(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "xxxxx" + s[i:]
		}
		return "xxxxx" + s[i:]
	}
	return s
}

// describeNetErr names a transport failure without repeating the URL.
func describeNetErr(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("no such host %q", dnsErr.Name)
		}
		return fmt.Sprintf("DNS lookup of %q failed", dnsErr.Name)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed before a response"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// Result is one check's outcome.
type Result struct {
	Healthy bool
	Detail  string
	At      time.Time
}

// Monitor runs a checker on an interval for many targets.
type Monitor struct {
	checker  *Checker
	interval time.Duration
	clk      clock.Clock

	mu      sync.Mutex
	targets map[string]context.CancelFunc
	wg      sync.WaitGroup
}

// NewMonitor returns a monitor checking every interval (default 5s); its
// interval timers and result times come from clk (nil means the real
// clock): with a *clock.Fake the next round of checks runs when the test
// advances the clock by interval.
func NewMonitor(checker *Checker, interval time.Duration, clk clock.Clock) *Monitor {
	if clk == nil {
		clk = clock.Real()
	}
	if checker == nil {
		checker = NewChecker(0)
	}
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &Monitor{checker: checker, interval: interval, clk: clk, targets: map[string]context.CancelFunc{}}
}

// Watch starts checking key's URL at once and then every interval after the
// previous check ended, calling onResult with each outcome, until
// Unwatch(key) or Close. Watching a key again replaces the previous watch.
// onResult runs on the watch's goroutine; it must not call Close.
func (m *Monitor) Watch(key, rawURL, path string, auth *api.ExternalAuth, onResult func(Result)) {
	ctx, cancel := context.WithCancel(context.Background())
	m.mu.Lock()
	if prev, ok := m.targets[key]; ok {
		prev()
	}
	m.targets[key] = cancel
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		for {
			ok, detail := m.checker.Check(ctx, rawURL, path, auth)
			if ctx.Err() != nil {
				return
			}
			onResult(Result{Healthy: ok, Detail: detail, At: m.clk.Now()})
			next := m.clk.NewTimer(m.interval)
			select {
			case <-ctx.Done():
				next.Stop()
				return
			case <-next.C():
			}
		}
	}()
}

// Watching reports whether key is being watched.
func (m *Monitor) Watching(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.targets[key]
	return ok
}

// Unwatch stops checking key. A check in flight is abandoned; a result that
// was already being delivered may still arrive once.
func (m *Monitor) Unwatch(key string) {
	m.mu.Lock()
	cancel, ok := m.targets[key]
	delete(m.targets, key)
	m.mu.Unlock()
	if ok {
		cancel()
	}
}

// Close stops every watch and waits for the checks in flight.
func (m *Monitor) Close() {
	m.mu.Lock()
	for k, cancel := range m.targets {
		cancel()
		delete(m.targets, k)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

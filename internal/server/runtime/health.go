package runtime

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// HealthChecker checks external services over HTTP.
type HealthChecker struct {
	Client  *http.Client
	Timeout time.Duration
}

// NewHealthChecker returns a checker whose single checks time out after timeout.
func NewHealthChecker(timeout time.Duration) *HealthChecker {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &HealthChecker{Timeout: timeout, Client: &http.Client{
		Timeout: timeout,
		// A health check judges the endpoint itself: never follow redirects elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Check performs one GET of rawURL+path; any 2xx is healthy. detail
// describes the outcome and never contains the auth token.
func (h *HealthChecker) Check(ctx context.Context, rawURL, path string, auth *api.ExternalAuth) (healthy bool, detail string) {
	target := strings.TrimRight(rawURL, "/") + path
	if path == "" {
		target = rawURL
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false, fmt.Sprintf("GET %s: invalid URL", target)
	}
	req.Header.Set("User-Agent", "nimbus-health-checker")
	if auth != nil && auth.Kind == api.AuthKindBearer && auth.Token != nil {
		req.Header.Set("Authorization", "Bearer "+auth.Token.Value)
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		return false, fmt.Sprintf("GET %s: %s", target, describeNetErr(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return true, fmt.Sprintf("GET %s: HTTP %d", target, resp.StatusCode)
	}
	return false, fmt.Sprintf("GET %s: HTTP %d", target, resp.StatusCode)
}

func describeNetErr(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "deadline exceeded"), strings.Contains(s, "Client.Timeout"):
		return "timed out"
	case strings.Contains(s, "no such host"):
		return "no such host"
	}
	return s
}

// HealthResult is one check's outcome.
type HealthResult struct {
	Healthy bool
	Detail  string
	At      time.Time
}

// HealthMonitor runs a checker on an interval for many targets.
type HealthMonitor struct {
	checker  *HealthChecker
	interval time.Duration
	after    func(time.Duration) <-chan time.Time
	now      func() time.Time

	mu      sync.Mutex
	targets map[string]context.CancelFunc
	wg      sync.WaitGroup
}

// NewHealthMonitor returns a monitor checking every interval. after and now
// may be nil (real time).
func NewHealthMonitor(checker *HealthChecker, interval time.Duration, after func(time.Duration) <-chan time.Time, now func() time.Time) *HealthMonitor {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	if after == nil {
		after = time.After
	}
	if now == nil {
		now = time.Now
	}
	return &HealthMonitor{checker: checker, interval: interval, after: after, now: now, targets: map[string]context.CancelFunc{}}
}

// Watch starts checking key's URL at once and then every interval, calling
// onResult with each outcome, until Unwatch(key) or Close. Watching a key
// again replaces the previous watch.
func (m *HealthMonitor) Watch(key, rawURL, path string, auth *api.ExternalAuth, onResult func(HealthResult)) {
	m.Unwatch(key)
	ctx, cancel := context.WithCancel(context.Background())
	m.mu.Lock()
	m.targets[key] = cancel
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			ok, detail := m.checker.Check(ctx, rawURL, path, auth)
			if ctx.Err() != nil {
				return
			}
			onResult(HealthResult{Healthy: ok, Detail: detail, At: m.now()})
			select {
			case <-ctx.Done():
				return
			case <-m.after(m.interval):
			}
		}
	}()
}

// Unwatch stops checking key.
func (m *HealthMonitor) Unwatch(key string) {
	m.mu.Lock()
	cancel, ok := m.targets[key]
	delete(m.targets, key)
	m.mu.Unlock()
	if ok {
		cancel()
	}
}

// Close stops every watch and waits for the checks in flight.
func (m *HealthMonitor) Close() {
	m.mu.Lock()
	for k, cancel := range m.targets {
		cancel()
		delete(m.targets, k)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

package client

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Retry decisions: which failures are retried for which requests, how long
// the client waits, and how a repeat whose first attempt had landed is
// recognised. The servers here script one answer per attempt.

// script answers attempt n (1-based) of every request with steps[n-1] (the
// last step repeats) and records the requests it saw.
type script struct {
	mu    sync.Mutex
	steps []func(w http.ResponseWriter, r *http.Request)
	seen  []*http.Request
	times []time.Time
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r)
	s.times = append(s.times, time.Now())
	step := s.steps[min(len(s.seen), len(s.steps))-1]
	s.mu.Unlock()
	step(w, r)
}

func (s *script) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func scripted(t *testing.T, steps ...func(w http.ResponseWriter, r *http.Request)) (*script, *Client) {
	t.Helper()
	s := &script{steps: steps}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, newTestClient(t, srv.URL, func(c *Config) { c.MaxRetryWait = 20 * time.Millisecond })
}

// drop closes the connection without an answer: the request reached the
// server, the caller cannot tell whether it was acted on.
func drop(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func answer(status int, body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func apiErr(code string, retryAfter string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeAPIError(w, code, code, "rid", nil)
	}
}

const svcJSON = `{"metadata":{"name":"web","tenantId":"acc","generation":1}}`

func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestRetryDecisions(t *testing.T) {
	type call func(ctx context.Context, c *Client) error
	var (
		deletePlain   call = func(ctx context.Context, c *Client) error { return c.Services.Delete(ctx, "web", DeleteOptions{}) }
		deleteChecked call = func(ctx context.Context, c *Client) error {
			return c.Services.Delete(ctx, "web", DeleteOptions{IfMatchGeneration: 1})
		}
		get    call = func(ctx context.Context, c *Client) error { _, err := c.Services.Get(ctx, "web"); return err }
		create call = func(ctx context.Context, c *Client) error {
			_, err := c.Services.Create(ctx, api.CreateServiceRequest{Name: "web"})
			return err
		}
		start call = func(ctx context.Context, c *Client) error {
			_, err := c.Services.Start(ctx, "web", ActionOptions{})
			return err
		}
		proxy503 = answer(503, "<html>busy</html>")
		ok       = answer(200, svcJSON)
	)
	for _, tc := range []struct {
		name      string
		call      call
		steps     []func(http.ResponseWriter, *http.Request)
		wantCalls int
		wantErr   bool
	}{
		// Nothing was done: any request is retried.
		{"429 write", deletePlain, steps(apiErr(api.CodeRateLimited, "0"), answer(204, "")), 2, false},
		{"API 503 write", deletePlain, steps(apiErr(api.CodeUnavailable, "0"), answer(204, "")), 2, false},
		// It may have been done: only repeatable requests are retried.
		{"dropped unchecked write", deletePlain, steps(drop, answer(204, "")), 1, true},
		{"proxy 503 unchecked write", deletePlain, steps(proxy503, answer(204, "")), 1, true},
		{"dropped read", get, steps(drop, ok), 2, false},
		{"proxy 503 read", get, steps(proxy503, ok), 2, false},
		{"dropped keyed create", create, steps(drop, answer(201, svcJSON)), 2, false},
		{"dropped start (a no-op when repeated)", start, steps(drop, ok), 2, false},
		// A generation-checked delete whose first attempt landed: the
		// repeat's 404 is that attempt's effect.
		{"dropped checked delete, then gone", deleteChecked, steps(drop, apiErr(api.CodeNotFound, "")), 2, false},
		// Without a lost attempt, a 404 is an answer.
		{"checked delete of a missing service", deleteChecked, steps(apiErr(api.CodeNotFound, "")), 1, true},
		// Answers are not retried.
		{"412", deleteChecked, steps(apiErr(api.CodePreconditionFailed, "")), 1, true},
		{"500", get, steps(apiErr(api.CodeInternal, "")), 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := scripted(t, tc.steps...)
			err := tc.call(deadline(t, 10*time.Second), c)
			if (err != nil) != tc.wantErr || s.calls() != tc.wantCalls {
				t.Fatalf("calls = %d (want %d), err = %v (want error: %v)", s.calls(), tc.wantCalls, err, tc.wantErr)
			}
		})
	}
}

func steps(f ...func(http.ResponseWriter, *http.Request)) []func(http.ResponseWriter, *http.Request) {
	return f
}

func TestRetryConnectionRefusedUntilDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: connection refused, the request was never sent
	var attempts int
	var mu sync.Mutex
	c := newTestClient(t, "http://"+addr, func(c *Config) {
		c.MaxRetryWait = 50 * time.Millisecond
		c.RequestLog = func(context.Context, string, string, int, time.Duration, string) {
			mu.Lock()
			attempts++
			mu.Unlock()
		}
	})
	start := time.Now()
	err = c.Services.Delete(deadline(t, 700*time.Millisecond), "web", DeleteOptions{})
	if err == nil || !strings.Contains(err.Error(), "attempts in") {
		t.Fatalf("want the refused connection after retries, got %v", err)
	}
	if attempts < 4 {
		t.Fatalf("a refused write is retried with backoff until the deadline: %d attempts", attempts)
	}
	if d := time.Since(start); d < 600*time.Millisecond || d > 5*time.Second {
		t.Fatalf("retrying took %s; want about the 700ms deadline", d)
	}
}

// The server comes back on the same address: the call started while it was
// down succeeds, with no count of retries to run out of.
func TestRetryRidesOutARestart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newTestClient(t, "http://"+addr, func(c *Config) { c.MaxRetryWait = 100 * time.Millisecond })
	go func() {
		time.Sleep(1500 * time.Millisecond)
		l2, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again: %v", err)
			return
		}
		srv := &http.Server{Handler: http.HandlerFunc(answer(201, svcJSON)), ReadHeaderTimeout: 5 * time.Second}
		t.Cleanup(func() { _ = srv.Close() })
		_ = srv.Serve(l2)
	}()
	if _, err := c.Services.Create(deadline(t, 30*time.Second), api.CreateServiceRequest{Name: "web"}); err != nil {
		t.Fatalf("create across a restart: %v", err)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s, c := scripted(t, apiErr(api.CodeRateLimited, "1"), answer(204, ""))
	if err := c.Services.Delete(deadline(t, 10*time.Second), "web", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if gap := s.times[1].Sub(s.times[0]); gap < time.Second {
		t.Fatalf("retried %s after a Retry-After of 1s", gap)
	}
}

func TestRetryAfterBeyondDeadlineReturnedAtOnce(t *testing.T) {
	s, c := scripted(t, apiErr(api.CodeUnavailable, "30"), answer(204, ""))
	start := time.Now()
	err := c.Services.Delete(deadline(t, 2*time.Second), "web", DeleteOptions{})
	if Code(err) != api.CodeUnavailable || s.calls() != 1 || time.Since(start) > time.Second {
		t.Fatalf("a Retry-After past the deadline is returned at once: calls=%d after %s, err=%v", s.calls(), time.Since(start), err)
	}
}

func TestRetryStopsAtDeadline(t *testing.T) {
	s, c := scripted(t, apiErr(api.CodeUnavailable, ""))
	start := time.Now()
	err := c.Services.Delete(deadline(t, 500*time.Millisecond), "web", DeleteOptions{})
	if Code(err) != api.CodeUnavailable || s.calls() < 3 {
		t.Fatalf("calls=%d err=%v", s.calls(), err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the deadline of 500ms was not respected: %s", d)
	}
}

// When the deadline comes while an attempt is in flight, the error is still
// the server's last answer, said to have been retried until the deadline,
// not the bare context error of the attempt it cut short.
func TestRetryDeadlineDuringAttemptKeepsLastAnswer(t *testing.T) {
	hang := func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	s, c := scripted(t, apiErr(api.CodeUnavailable, ""), apiErr(api.CodeUnavailable, "0"), hang)
	err := c.Services.Delete(deadline(t, 500*time.Millisecond), "web", DeleteOptions{})
	if Code(err) != api.CodeUnavailable || s.calls() != 3 || !retriedUntilDeadline(err) {
		t.Fatalf("calls=%d err=%v", s.calls(), err)
	}
	if !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("the error does not count the cut attempt: %v", err)
	}
}

func TestRetryBackoffIsCappedAndJittered(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", func(c *Config) { c.MaxRetryWait = 2 * time.Second })
	seen := map[time.Duration]bool{}
	for attempt := range 40 {
		d := c.backoff(attempt)
		want := min(retryBaseDelay<<min(attempt, 20), 2*time.Second)
		if d < want/2 || d >= want {
			t.Fatalf("attempt %d: backoff %s outside [%s, %s)", attempt, d, want/2, want)
		}
		seen[d] = true
	}
	if len(seen) < 30 {
		t.Fatalf("backoff is not jittered: %d distinct delays in 40", len(seen))
	}
}

func TestIdempotencyKeyReusedAcrossRetries(t *testing.T) {
	s, c := scripted(t, drop, apiErr(api.CodeUnavailable, "0"), answer(201, svcJSON))
	ctx := deadline(t, 10*time.Second)
	if _, err := c.Services.Create(ctx, api.CreateServiceRequest{Name: "web"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sandboxes.Create(ctx, api.CreateSandboxRequest{}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range s.seen {
		keys = append(keys, r.Header.Get(api.HeaderIdempotencyKey))
	}
	if len(keys) < 4 || keys[0] == "" || len(keys[0]) > api.MaxIdempotencyKeyLen {
		t.Fatalf("keys %q", keys)
	}
	last := keys[len(keys)-1]
	for _, k := range keys[:len(keys)-1] {
		if k != keys[0] {
			t.Fatalf("one Create sent different keys: %q", keys)
		}
	}
	if last == keys[0] {
		t.Fatalf("two Create calls shared the key %q", last)
	}
	// A caller-chosen key replaces the random one.
	if _, err := c.Sessions.Open(ctx, api.OpenSessionRequest{}, IdempotencyKey("my-key-1")); err != nil {
		t.Fatal(err)
	}
	if k := s.seen[len(s.seen)-1].Header.Get(api.HeaderIdempotencyKey); k != "my-key-1" {
		t.Fatalf("key %q", k)
	}
}

// A PATCH whose answer was lost is sent again; the repeat fails with 412
// because the first attempt moved the generation. The client re-reads the
// service and, finding what it asked for, returns it.
func TestUpdateLandedIsRecognised(t *testing.T) {
	labels := map[string]string{"team": "a"}
	gen := int64(4)
	landed := `{"metadata":{"name":"web","generation":5,"labels":{"team":"a"}}}`
	other := `{"metadata":{"name":"web","generation":5,"labels":{"team":"b"}}}`
	for _, tc := range []struct {
		name    string
		reread  string
		wantErr bool
	}{
		{"the service shows the update", landed, false},
		{"someone else changed it", other, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := scripted(t, drop, apiErr(api.CodePreconditionFailed, ""), answer(200, tc.reread))
			svc, err := c.Services.Update(deadline(t, 10*time.Second), "web", api.UpdateServiceRequest{Labels: &labels, IfMatchGeneration: &gen})
			if tc.wantErr {
				if !IsPreconditionFailed(err) {
					t.Fatalf("want the 412, got %v", err)
				}
				return
			}
			if err != nil || svc.Metadata.Generation != 5 {
				t.Fatalf("svc=%+v err=%v", svc, err)
			}
			if m := s.seen[2].Method; m != http.MethodGet || s.calls() != 3 {
				t.Fatalf("want PATCH, PATCH, GET; got %d calls, last %s", s.calls(), m)
			}
		})
	}
	// A 412 without a lost attempt is a conflict, reported as is.
	s, c := scripted(t, apiErr(api.CodePreconditionFailed, ""), answer(200, landed))
	if _, err := c.Services.Update(deadline(t, 10*time.Second), "web", api.UpdateServiceRequest{Labels: &labels, IfMatchGeneration: &gen}); !IsPreconditionFailed(err) || s.calls() != 1 {
		t.Fatalf("calls=%d err=%v", s.calls(), err)
	}
}

// A restart whose answer was lost is re-read before it is sent again.
func TestRestartNotRepeated(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := func(state string, ready time.Time) string {
		b, _ := json.Marshal(api.Service{Metadata: api.ObjectMeta{Name: "web", Generation: 1},
			Status: api.ServiceStatus{LifecycleState: state, Conditions: []api.Condition{{Type: api.ConditionReady, LastTransitionTime: ready}}}})
		return string(b)
	}
	running := svc(api.ServiceRunning, t0)
	for _, tc := range []struct {
		name      string
		after     string // the service read after the lost answer
		wantPosts int
	}{
		{"it happened (stopping now)", svc(api.ServiceStopping, t0.Add(time.Second)), 1},
		{"it happened (running again)", svc(api.ServiceRunning, t0.Add(2*time.Second)), 1},
		{"it did not happen", running, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			posts, gets := 0, 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if r.Method == http.MethodGet {
					gets++
					if gets == 1 {
						answer(200, running)(w, r)
					} else {
						answer(200, tc.after)(w, r)
					}
					return
				}
				posts++
				if posts == 1 {
					drop(w, r)
					return
				}
				answer(200, svc(api.ServiceStopping, t0.Add(time.Second)))(w, r)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(c *Config) { c.MaxRetryWait = 20 * time.Millisecond })
			out, err := c.Services.Restart(deadline(t, 10*time.Second), "web", ActionOptions{})
			if err != nil || out == nil {
				t.Fatalf("restart: %v", err)
			}
			if posts != tc.wantPosts {
				t.Fatalf("restart sent %d times, want %d", posts, tc.wantPosts)
			}
		})
	}
	// An unkeyed, unchecked write is not repeated after a lost answer.
	s, c := scripted(t, drop, answer(204, ""))
	err := c.Services.Delete(deadline(t, 10*time.Second), "web", DeleteOptions{})
	var te *transportError
	if !errors.As(err, &te) || s.calls() != 1 {
		t.Fatalf("calls=%d err=%v", s.calls(), err)
	}
}

// A close whose answer was lost: the repeat's op.conflict (already closed)
// is recognised by re-reading the session.
func TestSessionCloseLandedIsRecognised(t *testing.T) {
	closed := `{"metadata":{"id":"ses-1"},"status":{"lifecycleState":"closed","closeReason":"done"}}`
	s, c := scripted(t, drop, apiErr(api.CodeConflict, ""), answer(200, closed))
	out, err := c.Sessions.Close(deadline(t, 10*time.Second), "ses-1", "done")
	if err != nil || out.Status.LifecycleState != api.SessionClosed || s.calls() != 3 {
		t.Fatalf("calls=%d out=%+v err=%v", s.calls(), out, err)
	}
}

// A wait whose long-poll is cut (the server restarted) reconnects and goes
// on waiting; against a server that stays away it ends at its deadline.
func TestWaitReconnectsAfterRestart(t *testing.T) {
	starting := `{"metadata":{"name":"web","generation":1,"resourceVersion":"1"},"status":{"lifecycleState":"starting","observedGeneration":1}}`
	ready := `{"metadata":{"name":"web","generation":1,"resourceVersion":"2"},"status":{"lifecycleState":"running","readiness":"ready","observedGeneration":1}}`
	cut := drop // twice: the long-poll is cut, then the first reconnect too
	s, c := scripted(t, answer(200, starting), drop, cut, answer(200, ready))
	svc, err := c.Services.Wait(deadline(t, 10*time.Second), "web", WaitOptions{Until: api.WaitReady})
	if err != nil || !ServiceReady(svc) || s.calls() != 4 {
		t.Fatalf("calls=%d svc=%+v err=%v", s.calls(), svc, err)
	}
	if q := s.seen[1].URL.Query(); q.Get(api.QueryChangedSince) != "1" {
		t.Fatalf("the wait did not long-poll: %v", q)
	}

	_, c = scripted(t, answer(200, starting), drop)
	start := time.Now()
	_, err = c.Services.Wait(deadline(t, 10*time.Second), "web", WaitOptions{Until: api.WaitReady, Timeout: 700 * time.Millisecond})
	var we *WaitError
	if !errors.As(err, &we) || we.LastState != api.ServiceStarting {
		t.Fatalf("want a WaitError with the last status, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the wait outlived its 700ms deadline: %s", d)
	}
}

package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Client talks to one Nimbus server. It is safe for concurrent use.
type Client struct {
	Services  *ServicesClient
	Sandboxes *SandboxesClient
	Sessions  *SessionsClient

	cfg            Config
	r              *resolved
	http           *http.Client
	requestTimeout time.Duration
	maxRetries     int
	maxRetryWait   time.Duration
	retryTimeout   time.Duration
	log            RequestLogFunc
}

// New builds a client, discovering every setting Config leaves empty:
//
//   - Endpoint: Config.Endpoint → NIMBUS_ENDPOINT → "endpoint" in the credential file.
//   - Credential: Config.Token / APIKey / Credential (in that order) →
//     NIMBUS_TOKEN (or NIMBUS_BEARER_TOKEN), NIMBUS_API_KEY,
//     NIMBUS_WORKLOAD_IDENTITY_TOKEN → "token" / "apiKey" /
//     "workloadIdentityToken" in the credential file → the workload-identity
//     token file named by NIMBUS_WORKLOAD_IDENTITY_TOKEN_FILE (re-read on
//     every request so rotated tokens are used) → HCP Terraform's run token
//     TFC_WORKLOAD_IDENTITY_TOKEN.
//   - Tenant: Config.TenantID → NIMBUS_TENANT_ID → "tenantId" in the credential file.
//
// The credential file is Config.CredentialsFile, else
// NIMBUS_APPLICATION_CREDENTIALS, else
// ~/.config/nimbus/application_default_credentials.json (see CredentialFile);
// it is read only when a setting is still missing.
//
// A missing endpoint or credential is not an error here: the first request
// fails with a *ConfigError naming every option and variable that would set
// it. An invalid value (a malformed credential file, an endpoint that is not
// an http(s) URL, an invalid tenant id) is returned as a *ConfigError.
func New(cfg Config) (*Client, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:            cfg,
		r:              r,
		http:           cfg.HTTPClient,
		requestTimeout: cfg.RequestTimeout,
		maxRetries:     cfg.MaxRetries,
		maxRetryWait:   cfg.MaxRetryWait,
		retryTimeout:   cfg.RetryTimeout,
		log:            cfg.RequestLog,
	}
	if c.http == nil {
		c.http = NewHTTPClient()
	}
	if c.requestTimeout <= 0 {
		c.requestTimeout = DefaultRequestTimeout
	}
	if c.maxRetryWait <= 0 {
		c.maxRetryWait = DefaultMaxRetryWait
	}
	if c.retryTimeout <= 0 {
		c.retryTimeout = DefaultRetryTimeout
	}
	c.Services = &ServicesClient{r: collection{c: c, segment: "services", kind: "service", idField: "name"}}
	c.Sandboxes = &SandboxesClient{r: collection{c: c, segment: "sandboxes", kind: "sandbox", idField: "id"}}
	c.Sessions = &SessionsClient{r: collection{c: c, segment: "sessions", kind: "session", idField: "id"}}
	return c, nil
}

// NewHTTPClient returns an HTTP client whose transport keeps enough idle
// connections per host for Terraform's default parallelism (10) and well
// beyond (64 concurrent requests per host reuse connections). It sets no
// overall timeout (long-polls run long); the client bounds each attempt with
// a context deadline instead.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.MaxConnsPerHost = 0
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.ForceAttemptHTTP2 = true
	return &http.Client{Transport: t}
}

// Settings reports the resolved endpoint, tenant and credential kind and
// where each came from. It never contains a secret.
func (c *Client) Settings() Settings { return c.r.settings }

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	tenant         string
	changedSince   string
	wait           time.Duration
	idempotencyKey string
}

// IdempotencyKey sends key (1–255 printable ASCII) as the Idempotency-Key of
// a Create or Open instead of a fresh random one, so that a create repeated
// by the caller (not only the client's own retries) creates nothing new.
// Other calls ignore it.
func IdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

// InTenant runs the call in tenant instead of the client's default tenant.
func InTenant(tenant string) CallOption {
	return func(o *callOptions) { o.tenant = tenant }
}

// ChangedSince turns a single-object GET into a long-poll: the server answers
// as soon as the object's resourceVersion differs from resourceVersion, or
// after wait (at most 60s) with the unchanged object. Other calls ignore it.
func ChangedSince(resourceVersion string, wait time.Duration) CallOption {
	return func(o *callOptions) { o.changedSince, o.wait = resourceVersion, wait }
}

func applyOptions(opts []CallOption) callOptions {
	var o callOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// tenantPath returns /v1/tenants/{t} for the call, or a *ConfigError when
// there is no tenant.
func (c *Client) tenantPath(o callOptions) (string, error) {
	t := o.tenant
	if t == "" {
		t = c.r.settings.TenantID
	}
	if t == "" {
		return "", missingTenantError(c.credFileForMessage())
	}
	if err := api.ValidateName(t); err != nil {
		return "", &ConfigError{Setting: SettingTenant, Message: "invalid tenant id: " + err.Error()}
	}
	return api.BasePath + "/tenants/" + t, nil
}

func (c *Client) credFileForMessage() string {
	if c.r.settings.CredentialsFile != "" {
		return c.r.settings.CredentialsFile
	}
	if p, _ := c.cfg.credentialsFilePath(); p != "" {
		return p
	}
	return "~/" + DefaultCredentialsFileRelPath
}

// Tenants lists the tenants the client's credential may use.
func (c *Client) Tenants(ctx context.Context) (*api.TenantList, error) {
	return call[api.TenantList](ctx, c, &request{method: http.MethodGet, path: api.BasePath + "/tenants", repeatable: true})
}

// response is what the log and the caller learn of one attempt.
type response struct {
	status    int
	requestID string
}

// request describes one API call and how far it may be retried.
type request struct {
	method, path string // path already escaped
	query        url.Values
	body         any // JSON body (nil for none)
	longPoll     time.Duration
	// idempotencyKey, when set, is sent as Idempotency-Key on every attempt,
	// so the server answers a repeat with the original response.
	idempotencyKey string
	// repeatable: sending the request again after an attempt that may have
	// reached the server is harmless (reads, keyed creates,
	// generation-checked writes, and start and stop, which are no-ops when
	// repeated).
	repeatable bool
	// happened, for a request that is not repeatable, is asked after an
	// attempt that may have reached the server: true means that attempt took
	// effect, and do returns errHappened instead of sending it again.
	happened func(ctx context.Context) (bool, error)

	// mayHaveLanded is set by do once an attempt failed in a way that leaves
	// open whether the server acted on it (a reset connection, a timeout).
	// A later failure (412, 404, a conflict) may then be the effect of that
	// attempt; the caller re-reads to tell.
	mayHaveLanded bool
}

// errHappened is returned by do when request.happened found that an
// attempt which may have reached the server did take effect.
var errHappened = errors.New("nimbus: the earlier attempt took effect")

// do performs one API call with JSON result into out (nil to discard),
// retrying what is safe to retry until ctx's deadline (see retryDelay).
func (c *Client) do(ctx context.Context, rq *request, out any) error {
	if c.r.endpoint == nil {
		return missingEndpointError(c.credFileForMessage())
	}
	if c.r.cred.kind == "" {
		return missingCredentialError(c.credFileForMessage())
	}
	var body []byte
	if rq.body != nil {
		b, err := json.Marshal(rq.body)
		if err != nil {
			return fmt.Errorf("nimbus: encoding %s %s request: %w", rq.method, rq.path, err)
		}
		body = b
	}
	u := *c.r.endpoint
	u.RawPath = c.r.endpoint.EscapedPath() + rq.path
	if p, err := url.PathUnescape(u.RawPath); err == nil {
		u.Path = p
	}
	u.RawQuery = rq.query.Encode()

	// Without a deadline on ctx, retrying stops after retryTimeout.
	if _, ok := ctx.Deadline(); !ok && c.maxRetries >= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.retryTimeout)
		defer cancel()
	}
	start := time.Now()
	var prev error // the failure that made the client send this attempt
	for attempt := 0; ; attempt++ {
		_, err := c.attemptRenewingToken(ctx, rq, u.String(), body, out)
		if err == nil {
			return nil
		}
		if c.maxRetries < 0 || (c.maxRetries > 0 && attempt >= c.maxRetries) {
			return gaveUp(err, attempt, start, false)
		}
		if ctx.Err() != nil {
			atDeadline := errors.Is(ctx.Err(), context.DeadlineExceeded)
			if atDeadline && prev != nil && errors.Is(err, context.DeadlineExceeded) {
				// The deadline cut a retry short: what the caller needs
				// is the answer that was being retried.
				err = prev
			}
			return gaveUp(err, attempt, start, atDeadline)
		}
		prev = err
		delay, ok := c.retryDelay(err, rq, attempt)
		if ok && rq.mayHaveLanded && !rq.repeatable && rq.happened != nil {
			done, herr := rq.happened(ctx)
			switch {
			case herr != nil:
				return gaveUp(err, attempt, start, ctx.Err() != nil)
			case done:
				return errHappened
			}
			delay = 0 // it did not happen: send it again at once
		}
		if !ok {
			return gaveUp(err, attempt, start, false)
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) < delay {
			// The retry could not happen before the deadline.
			return gaveUp(err, attempt, start, true)
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return gaveUp(err, attempt, start, errors.Is(ctx.Err(), context.DeadlineExceeded))
			case <-t.C:
			}
		}
	}
}

// gaveUp is the error of a call whose last attempt failed with err after
// attempt retries: err itself, or, when it was retried or retrying ended at
// the deadline (atDeadline), err saying so.
func gaveUp(err error, attempt int, start time.Time, atDeadline bool) error {
	if attempt == 0 && !atDeadline {
		return err
	}
	return &retriedError{err: err, attempts: attempt + 1, elapsed: time.Since(start), atDeadline: atDeadline}
}

// retriedError is the last error of a call that was retried, or whose
// retrying ended at the deadline.
type retriedError struct {
	err        error
	attempts   int
	elapsed    time.Duration
	atDeadline bool
}

func (e *retriedError) Error() string {
	s := fmt.Sprintf("%v (after %d attempts in %s", e.err, e.attempts, e.elapsed.Round(100*time.Millisecond))
	if e.attempts == 1 {
		s = fmt.Sprintf("%v (after 1 attempt", e.err)
	}
	if e.atDeadline {
		s += "; retrying stopped at the operation's deadline"
	}
	return s + ")"
}

func (e *retriedError) Unwrap() error { return e.err }

// retriedUntilDeadline reports whether err is a call that was still being
// retried when its deadline came (see Client.do).
func retriedUntilDeadline(err error) bool {
	var re *retriedError
	return errors.As(err, &re) && re.atDeadline
}

// Backoff between attempts: exponential from retryBaseDelay, capped at the
// client's maxRetryWait, with jitter.
const retryBaseDelay = 100 * time.Millisecond

// retryDelay decides whether a failed attempt is retried and after how long:
//
//   - rate.limited (429) and server.unavailable (503 with the API's error
//     body: admission control, a draining server) mean the server did
//     nothing: every request is retried, after the Retry-After it sent;
//   - a refused connection means the request was never sent: every request
//     is retried;
//   - any other transport error (a reset connection, a timeout, a response
//     cut short) and 502/504 or a 503 without the API's body (a proxy) leave
//     open whether the server acted: only repeatable requests are retried,
//     and a request with a happened check is re-read first (see do);
//   - anything else is an answer and is returned.
//
// rq.mayHaveLanded is set for the third kind.
func (c *Client) retryDelay(err error, rq *request, attempt int) (time.Duration, bool) {
	backoff := c.backoff(attempt)
	var apiErr *Error
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.HTTPStatus == http.StatusTooManyRequests,
			apiErr.Code == api.CodeUnavailable && apiErr.structured:
			if apiErr.RetryAfter > 0 {
				// Honour Retry-After, spreading the callers it was sent to
				// over a quarter of it so they do not all return at once.
				return apiErr.RetryAfter + jitter(apiErr.RetryAfter/4), true
			}
			return backoff, true
		case apiErr.HTTPStatus == http.StatusBadGateway || apiErr.HTTPStatus == http.StatusServiceUnavailable ||
			apiErr.HTTPStatus == http.StatusGatewayTimeout:
			rq.mayHaveLanded = true
			return max(backoff, apiErr.RetryAfter), rq.repeatable || rq.happened != nil
		}
		return 0, false
	}
	if IsConfigError(err) {
		return 0, false
	}
	var te *transportError
	if !errors.As(err, &te) {
		return 0, false // the caller's context ended, or a request that cannot be built
	}
	if errors.Is(te.err, syscall.ECONNREFUSED) && !rq.mayHaveLanded {
		return backoff, true // never sent
	}
	rq.mayHaveLanded = true
	return backoff, rq.repeatable || rq.happened != nil
}

// backoff is the delay before retry attempt+1: exponential, capped, with
// "equal jitter" (half fixed, half random) so that parallel callers spread
// out.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.maxRetryWait
	if attempt < 20 {
		d = min(retryBaseDelay<<attempt, c.maxRetryWait)
	}
	return d/2 + jitter(d/2)
}

// jitter returns a random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d) //nolint:gosec // jitter spreads retries; it needs no unpredictability
}

// transportError is a failure to get any response.
type transportError struct {
	method, path string
	err          error
}

func (e *transportError) Error() string {
	// url.Error repeats the URL (endpoint + path + query); none of it is
	// secret, but keep the message short and stable.
	inner := e.err
	var ue *url.Error
	if errors.As(inner, &ue) {
		inner = ue.Err
	}
	return fmt.Sprintf("nimbus: %s %s: %v", e.method, e.path, inner)
}

func (e *transportError) Unwrap() error { return e.err }

func (c *Client) attempt(ctx context.Context, rq *request, rawURL string, body []byte, out any) (*response, error) {
	method, path := rq.method, rq.path
	actx, cancel := context.WithTimeout(ctx, c.requestTimeout+rq.longPoll)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, rawURL, rd)
	if err != nil {
		return nil, fmt.Errorf("nimbus: building %s %s request: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.r.settings.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.idempotencyKey != "" {
		req.Header.Set(api.HeaderIdempotencyKey, rq.idempotencyKey)
	}
	if err := c.authorize(req); err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		if c.log != nil {
			c.log(ctx, method, path, 0, time.Since(start), "")
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("nimbus: %s %s: %w", method, path, ctx.Err())
		}
		return nil, &transportError{method: method, path: path, err: err}
	}
	defer resp.Body.Close()
	rid := resp.Header.Get(api.HeaderRequestID)
	r := &response{status: resp.StatusCode, requestID: rid}
	if c.log != nil {
		c.log(ctx, method, path, resp.StatusCode, time.Since(start), rid)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || resp.StatusCode == http.StatusNoContent {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			return r, nil
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			if ctx.Err() != nil {
				return r, fmt.Errorf("nimbus: %s %s: %w", method, path, ctx.Err())
			}
			return r, &transportError{method: method, path: path, err: fmt.Errorf("decoding the %d response: %w", resp.StatusCode, err)}
		}
		return r, nil
	}
	return r, parseError(resp, method, path)
}

func (c *Client) authorize(req *http.Request) error {
	cred := c.r.cred
	value := cred.value
	if cred.tokenFile != "" {
		v, err := readTokenFile(cred.tokenFile)
		if err != nil {
			return err
		}
		value = v
	}
	switch cred.kind {
	case CredentialAPIKey:
		req.Header.Set(api.HeaderAPIKey, value)
	default:
		req.Header.Set("Authorization", "Bearer "+value)
	}
	return nil
}

// parseError turns a non-2xx response into an *Error. A body that is not the
// API's JSON error still yields a useful error with the code derived from
// the status.
func parseError(resp *http.Response, method, path string) *Error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{HTTPStatus: resp.StatusCode, RequestID: resp.Header.Get(api.HeaderRequestID), Method: method, Path: path}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			if d := time.Until(t); d > 0 {
				e.RetryAfter = d
			}
		}
	}
	var body api.ErrorResponse
	if err := json.Unmarshal(raw, &body); err == nil && body.Error.Code != "" {
		e.structured = true
		e.Code = body.Error.Code
		e.Message = body.Error.Message
		e.Details = body.Error.Details
		if e.RequestID == "" {
			e.RequestID = body.Error.RequestID
		}
		if e.RetryAfter == 0 && e.Details != nil && e.Details.RetryAfterSeconds > 0 {
			e.RetryAfter = time.Duration(e.Details.RetryAfterSeconds) * time.Second
		}
		return e
	}
	e.Code = CodeForStatus(resp.StatusCode)
	text := strings.TrimSpace(string(raw))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	if text == "" || strings.ContainsAny(text, "<>") {
		// Empty or an HTML error page: the status says more.
		text = http.StatusText(resp.StatusCode)
	}
	e.Message = fmt.Sprintf("HTTP %d without a Nimbus error body: %s", resp.StatusCode, text)
	return e
}

// escape escapes one path segment.
func escape(s string) string { return url.PathEscape(s) }

func requireID(kind, field, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("nimbus: a %s %s is required", kind, field)
	}
	return nil
}

func setInt(q url.Values, k string, v int) {
	if v != 0 {
		q.Set(k, strconv.Itoa(v))
	}
}

func setStr(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// longPollQuery adds the long-poll parameters of o to q and returns the wait.
func longPollQuery(q url.Values, o callOptions) time.Duration {
	if o.changedSince == "" || o.wait <= 0 {
		return 0
	}
	w := o.wait
	if w > api.MaxWaitMs*time.Millisecond {
		w = api.MaxWaitMs * time.Millisecond
	}
	ms := w.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	q.Set(api.QueryChangedSince, o.changedSince)
	q.Set(api.QueryWaitMs, strconv.FormatInt(ms, 10))
	return w
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("nimbus: "+format, args...)
}

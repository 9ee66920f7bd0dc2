package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
		log:            cfg.RequestLog,
	}
	if c.http == nil {
		c.http = NewHTTPClient()
	}
	if c.requestTimeout <= 0 {
		c.requestTimeout = DefaultRequestTimeout
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.maxRetryWait <= 0 {
		c.maxRetryWait = DefaultMaxRetryWait
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
	tenant       string
	changedSince string
	wait         time.Duration
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
	return call[api.TenantList](ctx, c, http.MethodGet, api.BasePath+"/tenants", nil, nil, 0)
}

// request describes one API call.
type response struct {
	status    int
	requestID string
}

// do performs one API call: method on path (already escaped) with query,
// JSON body in (nil for none) and JSON result into out (nil to discard).
// longPoll extends the per-attempt timeout for a long-poll GET.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any, longPoll time.Duration) error {
	if c.r.endpoint == nil {
		return missingEndpointError(c.credFileForMessage())
	}
	if c.r.cred.kind == "" {
		return missingCredentialError(c.credFileForMessage())
	}
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("nimbus: encoding %s %s request: %w", method, path, err)
		}
		body = b
	}
	u := *c.r.endpoint
	u.RawPath = c.r.endpoint.EscapedPath() + path
	if p, err := url.PathUnescape(u.RawPath); err == nil {
		u.Path = p
	}
	u.RawQuery = query.Encode()

	idempotent := method == http.MethodGet || method == http.MethodHead
	for attempt := 0; ; attempt++ {
		_, err := c.attemptRenewingToken(ctx, method, path, u.String(), body, out, longPoll)
		if err == nil {
			return nil
		}
		if attempt >= c.maxRetries || ctx.Err() != nil {
			return err
		}
		delay, ok := c.retryDelay(err, idempotent, attempt)
		if !ok {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// retryDelay decides whether a failed attempt is retried and after how long.
// GETs are retried on rate.limited, server.unavailable and transport errors;
// writes only on rate.limited (the server did nothing) and when the
// connection was refused before the request was sent.
func (c *Client) retryDelay(err error, idempotent bool, attempt int) (time.Duration, bool) {
	backoff := time.Duration(100<<attempt) * time.Millisecond
	if backoff > 2*time.Second {
		backoff = 2 * time.Second
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Code == api.CodeRateLimited,
			idempotent && (apiErr.Code == api.CodeUnavailable || apiErr.HTTPStatus == 502 || apiErr.HTTPStatus == 504):
		default:
			return 0, false
		}
		if apiErr.RetryAfter > 0 {
			if apiErr.RetryAfter > c.maxRetryWait {
				return 0, false
			}
			return apiErr.RetryAfter, true
		}
		return backoff, true
	}
	if IsConfigError(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0, false
	}
	var te *transportError
	if !errors.As(err, &te) {
		return 0, false
	}
	if idempotent || errors.Is(te.err, syscall.ECONNREFUSED) {
		return backoff, true
	}
	return 0, false
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

func (c *Client) attempt(ctx context.Context, method, path, rawURL string, body []byte, out any, longPoll time.Duration) (*response, error) {
	actx, cancel := context.WithTimeout(ctx, c.requestTimeout+longPoll)
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

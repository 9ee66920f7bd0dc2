package httpapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"os"
	"path"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
)

// apiError is an error the API returns as-is (see domain.Error).
type apiError = domain.Error

var (
	errf         = domain.Errorf
	invalid      = domain.Invalid
	invalidField = domain.InvalidField
	internalErr  = domain.Internal
)

// asAPIError is the answer to an error of the domain: its *domain.Error,
// or server.internal for any other error.
func asAPIError(err error) *apiError {
	var e *domain.Error
	if errors.As(err, &e) {
		return e
	}
	return internalErr(err)
}

// respWriter records the status for the request log.
type respWriter struct {
	http.ResponseWriter
	status int
}

func (w *respWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type ctxKey int

const (
	reqIDKey ctxKey = iota + 1
	reqInfoKey
)

// reqInfo collects what the request log reports about the caller: the
// credential's name (never its secret) and the tenant.
type reqInfo struct {
	credential string
	tenant     string
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(reqIDKey).(string)
	return id
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "req-" + hex.EncodeToString(b[:])
}

func (s *API) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode response", "err", err)
		b, status = []byte(`{"error":{"code":"server.internal","message":"internal server error: cannot encode response"}}`), 500
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (s *API) writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	rid := requestID(r)
	body := api.ErrorResponse{Error: api.ErrorBody{Code: e.Code, Message: e.Message, Details: e.Details, RequestID: rid}}
	if e.Code == api.CodeInternal {
		s.log.Error("internal error", "requestId", rid, "method", r.Method, "path", r.URL.Path, "err", e.Message)
		body.Error.Message = "internal server error; the server log has the details under this request id"
	}
	if e.RetryAfter > 0 {
		secs := int(math.Ceil(e.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		if body.Error.Details == nil {
			body.Error.Details = &api.ErrorDetails{}
		}
		body.Error.Details.RetryAfterSeconds = secs
	}
	s.writeJSON(w, api.HTTPStatus(e.Code), body)
}

// middleware wraps every request: request id, drain check, panic recovery,
// request log. Secrets never reach the log: only method, path, status,
// duration, tenant and credential name are logged.
func (s *API) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := newRequestID()
		info := &reqInfo{}
		r = r.WithContext(contextWithValue(r, reqIDKey, rid))
		r = r.WithContext(contextWithValue(r, reqInfoKey, info))
		w.Header().Set(api.HeaderRequestID, rid)
		rw := &respWriter{ResponseWriter: w}
		s.inflight.Add(1)
		defer s.inflight.Done()
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				s.log.Error("panic serving request", "requestId", rid, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if rw.status == 0 {
					s.writeError(rw, r, errf(api.CodeInternal, "panic"))
				}
			}
			lvl := slog.LevelInfo
			switch {
			case rw.status == http.StatusServiceUnavailable:
				lvl = slog.LevelWarn // draining or overloaded: asked to retry, not a fault
			case rw.status >= 500:
				lvl = slog.LevelError
			}
			s.log.Log(r.Context(), lvl, "request", "requestId", rid, "method", r.Method, "path", r.URL.Path,
				"status", rw.status, "durationMs", time.Since(start).Milliseconds(), "credential", info.credential, "tenant", info.tenant)
		}()
		// ServeMux answers a path that is not canonical ("//", "." or ".."
		// segments) with an HTML redirect: answer an API error instead.
		if p := r.URL.Path; p != canonicalPath(p) {
			s.writeError(rw, r, invalidField("path", "the path %q is not canonical: remove empty, '.' and '..' segments", p))
			return
		}
		// The body is read before the request takes an in-flight slot, under
		// a deadline, so slow senders neither hold slots others need nor
		// hold a graceful shutdown (Drain cuts them off).
		if e := s.readBody(rw, r); e != nil {
			rw.Header().Set("Connection", "close")
			s.writeError(rw, r, e)
			return
		}
		if n := s.inflightN.Add(1); s.cfg.MaxInFlight > 0 && n > int64(s.cfg.MaxInFlight) {
			s.inflightN.Add(-1)
			s.writeError(rw, r, &apiError{Code: api.CodeUnavailable, Message: "the server is overloaded; retry after the Retry-After delay", RetryAfter: s.cfg.RetryAfter})
			return
		}
		defer s.inflightN.Add(-1)
		if s.draining.Load() {
			s.writeError(rw, r, &apiError{Code: api.CodeUnavailable, Message: "the server is shutting down; retry against the restarted server", RetryAfter: s.cfg.RetryAfter})
			return
		}
		next.ServeHTTP(rw, r)
	})
}

// canonicalPath is the path ServeMux would redirect p to (path.Clean,
// keeping a trailing slash).
func canonicalPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// readBody reads the body of an authenticated request into memory (at
// most api.MaxBodyBytes+1 bytes: decode reports anything longer as
// request.too_large) within cfg.BodyTimeout of its start. The connection's
// read deadline is lifted again once the body is in, so long-polls and the
// server's detection of a client going away are not affected. Requests
// without a body (every long-poll) and requests without a valid credential
// (answered 401 without their body being read) are left alone.
func (s *API) readBody(w http.ResponseWriter, r *http.Request) *apiError {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if p, _ := s.authenticate(r); !p.Valid() {
		return nil // the route answers 401 without reading the body
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)); err != nil {
		rc = nil // not a real connection (an in-process test recorder)
	}
	if rc != nil && !s.bodies.add(rc) {
		return &apiError{Code: api.CodeUnavailable, Message: "the server is shutting down; retry against the restarted server", RetryAfter: s.cfg.RetryAfter}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, api.MaxBodyBytes+1))
	if rc != nil {
		s.bodies.remove(rc)
	}
	if err != nil {
		// The deadline stays in the past: the connection closes after the
		// answer, and nothing else is read from it.
		switch {
		case s.draining.Load():
			return &apiError{Code: api.CodeUnavailable, Message: "the server is shutting down; retry against the restarted server", RetryAfter: s.cfg.RetryAfter}
		case errors.Is(err, os.ErrDeadlineExceeded):
			return errf(api.CodeTimeout, "the request body did not arrive within %s; send the whole body at once", s.cfg.BodyTimeout)
		default:
			return errf(api.CodeInvalid, "cannot read the request body: the connection broke off")
		}
	}
	if rc != nil {
		if err := rc.SetReadDeadline(time.Time{}); err != nil {
			return internalErr(fmt.Errorf("lift the body read deadline: %w", err))
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// bodyReaders tracks the requests whose body is being read, so Drain can
// cut them off at once.
type bodyReaders struct {
	mu      sync.Mutex
	closed  bool
	readers map[*http.ResponseController]struct{}
}

// add registers rc; it returns false once cutAll ran.
func (b *bodyReaders) add(rc *http.ResponseController) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	if b.readers == nil {
		b.readers = map[*http.ResponseController]struct{}{}
	}
	b.readers[rc] = struct{}{}
	return true
}

func (b *bodyReaders) remove(rc *http.ResponseController) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.readers, rc)
}

// cutAll ends every body read in progress (their read deadline passes now)
// and refuses new ones.
func (b *bodyReaders) cutAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for rc := range b.readers {
		_ = rc.SetReadDeadline(time.Now())
	}
}

// decode reads a JSON body strictly into v. An empty body is allowed only
// when optional is true.
func decode(r *http.Request, w http.ResponseWriter, v any, optional bool) *apiError {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errf(api.CodeUnsupportedMedia, "Content-Type %q is not supported; send application/json", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errf(api.CodeTooLarge, "the request body is larger than %d bytes", api.MaxBodyBytes)
		}
		return errf(api.CodeInvalid, "cannot read the request body: %v", err)
	}
	return decodeBytes(body, v, optional)
}

// decodeBytes is the strict JSON decoder behind every request body: unknown
// fields, trailing data and type mismatches are request.invalid with the
// offending field named.
func decodeBytes(body []byte, v any, optional bool) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return errf(api.CodeInvalid, "the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			// Name the unknown field by its full path.
			if p := checkJSON(body, reflect.TypeOf(v)); p != nil {
				return invalidField(p.field, "%s", p.description)
			}
		}
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errf(api.CodeInvalid, "malformed JSON: unexpected data after the JSON object")
	}
	// encoding/json keeps the last of duplicate keys; the API rejects them.
	if p := checkJSON(body, reflect.TypeOf(v)); p != nil {
		return invalidField(p.field, "%s", p.description)
	}
	return nil
}

func jsonError(err error) *apiError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return errf(api.CodeInvalid, "malformed JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errf(api.CodeInvalid, "malformed JSON: the body ends early")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return errf(api.CodeInvalid, "the request body must be a JSON object, got %s", te.Value)
		}
		return invalidField(field, "must be %s, got %s", jsonTypeName(te.Type.Kind().String()), te.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return invalidField(strings.Trim(f, `"`), "unknown field; check the spelling against the API reference")
	}
	msg = strings.TrimPrefix(msg, "json: ")
	return errf(api.CodeInvalid, "invalid request body: %s", msg)
}

func jsonTypeName(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "a " + k
}

// ------------------------------------------------------------- list params

// listParams is a list query as the domain takes it.
type listParams = domain.ListQuery

// filterID identifies a list query, so a page token cannot be replayed
// against a different query.
func filterID(p listParams, kind, tenant string) string {
	return strings.Join([]string{kind, tenant, p.LabelKey, p.LabelValue, strconv.FormatBool(p.HasValue), p.State}, "\x00")
}

type pageToken struct {
	After  string `json:"a"`
	Filter string `json:"f"`
}

func (s *API) encodePageToken(kind, tenant string, p listParams, after string) string {
	b, _ := json.Marshal(pageToken{After: after, Filter: filterID(p, kind, tenant)})
	mac := hmac.New(sha256.New, s.pageKey)
	mac.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

func (s *API) decodePageToken(kind, tenant string, p listParams, tok string) (string, *apiError) {
	bad := invalidField("pageToken", "is not a page token this server issued for this list and filter; start again without pageToken")
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return "", bad
	}
	b, err1 := base64.RawURLEncoding.DecodeString(payload)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return "", bad
	}
	mac := hmac.New(sha256.New, s.pageKey)
	mac.Write(b)
	if !hmac.Equal(mac.Sum(nil)[:16], got) {
		return "", bad
	}
	var pt pageToken
	if err := json.Unmarshal(b, &pt); err != nil || pt.Filter != filterID(p, kind, tenant) {
		return "", bad
	}
	return pt.After, nil
}

// parseList reads limit, pageToken, labelKey, labelValue and the state
// filter (query parameter stateParam, allowed values states).
func (s *API) parseList(r *http.Request, kind, tenant, stateParam string, states []string) (listParams, *apiError) {
	q := r.URL.Query()
	var v api.Violations
	p := listParams{Limit: api.DefaultPageLimit}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > api.MaxPageLimit {
			v.Add("limit", "must be an integer from 1 to %d, got %q", api.MaxPageLimit, l)
		} else {
			p.Limit = n
		}
	}
	p.LabelKey = q.Get("labelKey")
	p.LabelValue, p.HasValue = q.Get("labelValue"), q.Has("labelValue")
	if p.HasValue && p.LabelKey == "" {
		v.Add("labelValue", "requires labelKey")
	}
	if p.LabelKey != "" && !api.ValidLabelKey(p.LabelKey) {
		v.Add("labelKey", "%s", api.LabelKeyRule)
	}
	if p.HasValue && !api.ValidLabelValue(p.LabelValue) {
		v.Add("labelValue", "%s", api.LabelValueRule)
	}
	p.State = q.Get(stateParam)
	if p.State != "" && !contains(states, p.State) {
		v.Add(stateParam, "unknown value %q; must be one of %s", p.State, strings.Join(states, ", "))
	}
	if len(v) > 0 {
		return p, invalid(v)
	}
	if tok := q.Get("pageToken"); tok != "" {
		after, e := s.decodePageToken(kind, tenant, p, tok)
		if e != nil {
			return p, e
		}
		p.After = after
	}
	return p, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ------------------------------------------------------------------ misc

// parseIfMatch reads the ifMatchGeneration query parameter.
// nil when absent.
func parseIfMatch(r *http.Request) (*int64, *apiError) {
	q := r.URL.Query()
	if !q.Has("ifMatchGeneration") {
		return nil, nil
	}
	n, err := strconv.ParseInt(q.Get("ifMatchGeneration"), 10, 64)
	if err != nil || n < 1 {
		return nil, invalidField("ifMatchGeneration", "must be a generation you read (an integer, 1 or more), got %q", q.Get("ifMatchGeneration"))
	}
	return &n, nil
}

func parseForce(r *http.Request) (bool, *apiError) {
	q := r.URL.Query()
	if !q.Has("force") {
		return false, nil
	}
	b, err := strconv.ParseBool(q.Get("force"))
	if err != nil {
		return false, invalidField("force", "must be true or false, got %q", q.Get("force"))
	}
	return b, nil
}

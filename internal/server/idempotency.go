package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Idempotent creates (services.create, sandboxes.create, sessions.open): a
// request with an Idempotency-Key header is answered, within
// api.IdempotencyKeyTTL, by the response its first success got when the
// same key comes again with the same body, and with
// request.idempotency_mismatch when it comes with another body. Keys are
// scoped to the credential (its secret's hash, so a renamed credential
// keeps its keys and another credential cannot replay them) and the tenant,
// and are stored (kind "idempotency") so that they survive a restart: a
// client that lost the answer to a create while the server crashed gets the
// object it created when it retries against the restarted server.
//
// Only a successful create is remembered: an error created nothing, so the
// same key may be sent again (with any body).

const kindIdempotency = "idempotency"

// principalCtxKey carries the authenticated principal to the handlers that
// need its credential (see authRoute).
const principalCtxKey ctxKey = -1

// idemRec is one remembered create.
type idemRec struct {
	// Op is the operation ("services.create"): a key reused on another
	// operation is a mismatch.
	Op string `json:"op"`
	// BodyHash is the SHA-256 of the request body in canonical JSON.
	BodyHash string `json:"bodyHash"`
	// Status and Body are the original response.
	Status    int             `json:"status"`
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"createdAt"`
}

func (r *idemRec) expired(now time.Time) bool {
	return !now.Before(r.CreatedAt.Add(api.IdempotencyKeyTTL))
}

// validIdempotencyKey: 1–255 printable ASCII characters.
func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > api.MaxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idemStoreKey is the record's key within its tenant: a hash of the
// credential and the client's key (neither is stored as is).
func idemStoreKey(p principal, key string) string {
	h := sha256.New()
	h.Write(p.cred.hash[:])
	h.Write([]byte{0})
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalBodyHash hashes body as canonical JSON (keys sorted, no
// insignificant space), so that a re-encoded but equal body is the same
// body. A body that is not JSON is hashed as it is (the handler rejects it).
func canonicalBodyHash(op string, body []byte) string {
	canon := body
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err == nil {
		if b, err := json.Marshal(v); err == nil {
			canon = b
		}
	}
	sum := sha256.Sum256(append([]byte(op+"\x00"), canon...))
	return hex.EncodeToString(sum[:])
}

// idempotent wraps the create handler of op with idempotency keys.
func (s *Server) idempotent(op string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
		vals, sent := r.Header[http.CanonicalHeaderKey(api.HeaderIdempotencyKey)]
		if !sent {
			return h(w, r, tenant)
		}
		key := vals[0]
		if len(vals) > 1 || !validIdempotencyKey(key) {
			return invalidField(api.HeaderIdempotencyKey, "must be one header of 1 to %d printable ASCII characters", api.MaxIdempotencyKeyLen)
		}
		p, ok := r.Context().Value(principalCtxKey).(principal)
		if !ok {
			return internalErr(errors.New("idempotency: no principal in the request context"))
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return errf(api.CodeTooLarge, "the request body is larger than %d bytes", api.MaxBodyBytes)
			}
			return errf(api.CodeInvalid, "cannot read the request body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		hash := canonicalBodyHash(op, body)
		skey := idemStoreKey(p, key)

		// One request per key at a time: a repeat sent while the first is
		// still being served waits for its outcome.
		unlock := s.lockObj(kindIdempotency, tenant, skey)
		defer unlock()
		now := s.now()
		if rec := s.idem.get(tenant, skey); rec != nil && !rec.expired(now) {
			if rec.Op != op || rec.BodyHash != hash {
				return errf(api.CodeIdempotencyMismatch,
					"the Idempotency-Key was already used by this credential in tenant %q for a %s with another body; "+
						"send a new key for a new request, or repeat the original request unchanged", tenant, rec.Op)
			}
			s.log.Info("idempotent replay", "tenant", tenant, "op", op, "requestId", requestID(r))
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(rec.Status)
			_, _ = w.Write(append(append([]byte(nil), rec.Body...), '\n'))
			return nil
		}

		rw := &recordingWriter{header: w.Header()}
		if e := h(rw, r, tenant); e != nil {
			return e // nothing was created: nothing to remember
		}
		if rw.status >= 200 && rw.status < 300 {
			rec := &idemRec{Op: op, BodyHash: hash, Status: rw.status, Body: bytes.TrimSpace(rw.body.Bytes()), CreatedAt: now}
			if err := s.putIdem(tenant, skey, rec); err != nil {
				// The object exists; the client gets it. Only a repeat of
				// this request would not be recognised.
				s.log.Error("store idempotency key", "tenant", tenant, "op", op, "err", err)
			}
		}
		w.WriteHeader(rw.status)
		_, _ = w.Write(rw.body.Bytes())
		return nil
	}
}

// recordingWriter holds a handler's response until its idempotency record
// is stored, so that a client that got the answer can also get it again.
type recordingWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) Header() http.Header { return w.header }

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// putIdem stores a record and, at most once an hour, drops expired ones.
func (s *Server) putIdem(tenant, key string, rec *idemRec) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := s.store.Put(kindIdempotency, tenant, key, b); err != nil {
		return err
	}
	s.idem.set(tenant, key, rec)
	now := s.now()
	if last := s.idemSwept.Load(); now.Sub(time.UnixMilli(last)) >= time.Hour && s.idemSwept.CompareAndSwap(last, now.UnixMilli()) {
		s.sweepIdem(now)
	}
	return nil
}

// sweepIdem deletes expired records from memory and the store.
func (s *Server) sweepIdem(now time.Time) {
	for _, t := range s.idem.tenants() {
		s.idem.mu.RLock()
		var old []string
		for k, rec := range s.idem.m[t] {
			if rec.expired(now) {
				old = append(old, k)
			}
		}
		s.idem.mu.RUnlock()
		for _, k := range old {
			unlock := s.lockObj(kindIdempotency, t, k)
			if rec := s.idem.get(t, k); rec != nil && rec.expired(now) {
				if err := s.store.Delete(kindIdempotency, t, k); err != nil {
					s.log.Error("delete expired idempotency key", "tenant", t, "err", err)
				} else {
					s.idem.del(t, k)
				}
			}
			unlock()
		}
	}
}

// loadIdem reads the stored records, dropping expired ones.
func (s *Server) loadIdem() error {
	s.idem = newTable[idemRec]()
	if err := s.store.Load(kindIdempotency, func(tenant, key string, data []byte) error {
		rec := new(idemRec)
		if err := json.Unmarshal(data, rec); err != nil {
			// A damaged record only costs the replay of one create.
			s.log.Warn("skip unreadable idempotency record", "tenant", tenant, "err", err)
			return nil
		}
		s.idem.set(tenant, key, rec)
		return nil
	}); err != nil {
		return err
	}
	now := s.now()
	s.idemSwept.Store(now.UnixMilli())
	s.sweepIdem(now)
	return nil
}

// withPrincipal records the authenticated principal in the request context.
func withPrincipal(r *http.Request, p principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalCtxKey, p))
}

package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/auth"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
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

// principalCtxKey carries the authenticated principal to the handlers that
// need its credential (see authRoute).
const principalCtxKey ctxKey = -1

// validIdempotencyKey: 1–255 printable ASCII characters.
func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > api.MaxIdempotencyKeyLen {
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
func idemStoreKey(p auth.Principal, key string) string {
	h := sha256.New()
	hash := p.SecretHash()
	h.Write(hash[:])
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

// idemOp is one idempotent create: its name and how to find the object a
// create under a reserved key made (see idempotent).
type idemOp struct {
	name string
	// objectKey returns the key the create will store its object under:
	// the service name from the body, or a fresh sandbox or session id
	// that the handler then uses (reservedID).
	objectKey func(body []byte) string
	// current returns the object stored under key, as the create answers
	// it, or nil.
	current func(tenant, key string) any
}

func (s *API) idemOps() (services, sandboxes, sessions idemOp) {
	services = idemOp{name: "services.create",
		objectKey: func(body []byte) string {
			var b struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(body, &b)
			return b.Name
		},
		current: func(tenant, key string) any {
			if out, err := s.d.GetService(tenant, key); err == nil {
				return out
			}
			return nil
		}}
	sandboxes = idemOp{name: "sandboxes.create",
		objectKey: func([]byte) string { return domain.NewID("sbx-") },
		current: func(tenant, key string) any {
			if out, err := s.d.GetSandbox(tenant, key); err == nil {
				return out
			}
			return nil
		}}
	sessions = idemOp{name: "sessions.open",
		objectKey: func([]byte) string { return domain.NewID("ses-") },
		current: func(tenant, key string) any {
			if out, err := s.d.GetSession(tenant, key); err == nil {
				return out
			}
			return nil
		}}
	return services, sandboxes, sessions
}

// reservedIDCtxKey carries the object id reserved for a keyed create.
const reservedIDCtxKey ctxKey = -2

// reservedID is the id a create handler gives its new object: the one its
// Idempotency-Key reserved, else "" (the domain makes a fresh one).
func reservedID(ctx context.Context) string {
	id, _ := ctx.Value(reservedIDCtxKey).(string)
	return id
}

// idempotent wraps the create handler of op with idempotency keys.
//
// Crash safety: before the handler runs, a pending record (the body's hash
// and the key of the object the create will make) is stored. A repeat that
// finds a pending record — the server died between storing it and storing
// the answer — answers the object when it exists (the create had landed)
// and otherwise runs the create again under the same object key. So
// neither a lost answer nor a crash at any point makes a second object.
func (s *API) idempotent(op idemOp, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
		vals, sent := r.Header[http.CanonicalHeaderKey(api.HeaderIdempotencyKey)]
		if !sent {
			return h(w, r, tenant)
		}
		key := vals[0]
		if len(vals) > 1 || !validIdempotencyKey(key) {
			return invalidField(api.HeaderIdempotencyKey, "must be one header of 1 to %d printable ASCII characters", api.MaxIdempotencyKeyLen)
		}
		p, ok := r.Context().Value(principalCtxKey).(auth.Principal)
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
		hash := canonicalBodyHash(op.name, body)
		skey := idemStoreKey(p, key)

		// One request per key at a time: a repeat sent while the first is
		// still being served waits for its outcome.
		unlock := s.d.LockIdem(tenant, skey)
		defer unlock()
		now := s.d.Now()
		rec := s.d.Idem(tenant, skey)
		if rec != nil && (rec.Op != op.name || rec.BodyHash != hash) {
			return errf(api.CodeIdempotencyMismatch,
				"the Idempotency-Key was already used by this credential in tenant %q for a %s with another body; "+
					"send a new key for a new request, or repeat the original request unchanged", tenant, rec.Op)
		}
		if rec != nil && rec.Status == 0 && rec.ObjectKey != "" {
			// Pending: the server stopped during this create. Did it land?
			if obj := op.current(tenant, rec.ObjectKey); obj != nil {
				b, err := json.Marshal(obj)
				if err != nil {
					return internalErr(err)
				}
				done := *rec
				done.Status, done.Body = http.StatusCreated, b
				if err := s.d.PutIdem(tenant, skey, &done); err != nil {
					return internalErr(err)
				}
				rec = &done
			}
		}
		if rec != nil && rec.Status != 0 {
			s.log.Info("idempotent replay", "tenant", tenant, "op", op.name, "requestId", requestID(r))
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(rec.Status)
			_, _ = w.Write(append(append([]byte(nil), rec.Body...), '\n')) //nolint:gosec // G705: the JSON this server encoded for the original answer (application/json), replayed as is
			return nil
		}
		if rec == nil {
			rec = &domain.IdemRecord{Op: op.name, BodyHash: hash, ObjectKey: op.objectKey(body), CreatedAt: now}
			if err := s.d.PutIdem(tenant, skey, rec); err != nil {
				return internalErr(err)
			}
		}
		r = r.WithContext(context.WithValue(r.Context(), reservedIDCtxKey, rec.ObjectKey))

		rw := &recordingWriter{header: w.Header()}
		if e := h(rw, r, tenant); e != nil {
			if api.HTTPStatus(e.Code) < 500 {
				// Refused: nothing was created, so nothing to remember and
				// the key may be used again.
				s.d.DropIdem(tenant, skey)
			}
			return e
		}
		if rw.status >= 200 && rw.status < 300 {
			done := *rec
			done.Status, done.Body = rw.status, bytes.TrimSpace(rw.body.Bytes())
			if err := s.d.PutIdem(tenant, skey, &done); err != nil {
				// The object exists and the client gets it; the pending
				// record still lets a repeat find it.
				s.log.Error("store idempotency record", "tenant", tenant, "op", op.name, "err", err)
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

// withPrincipal records the authenticated principal in the request context.
func withPrincipal(r *http.Request, p auth.Principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalCtxKey, p))
}

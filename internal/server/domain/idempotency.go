package domain

import (
	"encoding/json"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
)

// Idempotency records remember the first answer to a keyed create (the
// HTTP layer decides what a key and a body are, see
// internal/server/httpapi). They are stored (kind "idempotency") so that
// they survive a restart, and dropped after api.IdempotencyKeyTTL.

const kindIdempotency = "idempotency"

// IdemRecord is one remembered create.
type IdemRecord struct {
	// Op is the operation ("services.create"): a key reused on another
	// operation is a mismatch.
	Op string `json:"op"`
	// BodyHash is the SHA-256 of the request body in canonical JSON.
	BodyHash string `json:"bodyHash"`
	// ObjectKey is the service name or the sandbox or session id the
	// create stores its object under (reserved before it runs).
	ObjectKey string `json:"objectKey,omitempty"`
	// Status and Body are the original response; Status 0 while the create
	// is pending.
	Status    int             `json:"status"`
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"createdAt"`
}

func (r *IdemRecord) expired(now time.Time) bool {
	return !now.Before(r.CreatedAt.Add(api.IdempotencyKeyTTL))
}

// LockIdem takes the writer lock of one idempotency record: one request per
// key at a time.
func (s *Domain) LockIdem(tenant, key string) (unlock func()) {
	return s.lockObj(kindIdempotency, tenant, key)
}

// Idem returns the record stored under key, nil when there is none or it
// expired.
func (s *Domain) Idem(tenant, key string) *IdemRecord {
	rec := s.idem.get(tenant, key)
	if rec != nil && rec.expired(s.now()) {
		return nil
	}
	return rec
}

// PutIdem stores a record (the caller holds LockIdem) and, at most once an
// hour, drops expired ones.
func (s *Domain) PutIdem(tenant, key string, rec *IdemRecord) error {
	return s.putIdem(tenant, key, rec)
}

// DropIdem forgets a record (the create it was for was refused).
func (s *Domain) DropIdem(tenant, key string) { s.dropIdem(tenant, key) }

// dropIdem forgets a record (the create it was for was refused).
func (s *Domain) dropIdem(tenant, key string) {
	if err := s.store.Delete(kindIdempotency, tenant, key); err != nil {
		s.log.Error("delete idempotency record", "tenant", tenant, "err", err)
		return
	}
	s.idem.del(tenant, key)
}

// putIdem stores a record and, at most once an hour, drops expired ones.
func (s *Domain) putIdem(tenant, key string, rec *IdemRecord) error {
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
func (s *Domain) sweepIdem(now time.Time) {
	for _, t := range s.idem.tenants() {
		for _, k := range s.idem.keysWhere(t, func(rec *IdemRecord) bool { return rec.expired(now) }) {
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
func (s *Domain) loadIdem() error {
	s.idem = newTable[IdemRecord]()
	if err := s.store.Scan(kindIdempotency, store.Range{}, func(tenant, key string, data []byte) error {
		rec := new(IdemRecord)
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

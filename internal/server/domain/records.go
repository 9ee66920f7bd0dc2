package domain

import (
	"fmt"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
)

// Kinds of stored objects; each is one collection of the store.
const (
	kindService = "services"
	kindSandbox = "sandboxes"
	kindSession = "sessions"
)

// record is what the write path needs of a stored object.
type record interface {
	meta() *api.ObjectMeta
	key() string // the object's key in its table: name or id
}

func (r *serviceRec) meta() *api.ObjectMeta { return &r.Service.Metadata }
func (r *sandboxRec) meta() *api.ObjectMeta { return &r.Sandbox.Metadata }
func (r *sessionRec) meta() *api.ObjectMeta { return &r.Session.Metadata }
func (r *serviceRec) key() string           { return r.Service.Metadata.Name }
func (r *sandboxRec) key() string           { return r.Sandbox.Metadata.ID }
func (r *sessionRec) key() string           { return r.Session.Metadata.ID }

// put persists r (caller holds its key lock) with a new resourceVersion and
// updatedAt, then publishes it in t and wakes its long-polls. noun names
// the kind in errors ("store service: …").
func put[T any, P interface {
	*T
	record
}](s *Domain, t *table[T], kind, noun string, r P) error {
	m := r.meta()
	m.ResourceVersion = s.nextRV()
	m.UpdatedAt = s.now()
	if err := store.PutJSON(s.store, kind, m.TenantID, r.key(), (*T)(r)); err != nil {
		return fmt.Errorf("store %s: %w", noun, err)
	}
	t.set(m.TenantID, r.key(), (*T)(r))
	s.watch.notify(objKey(kind, m.TenantID, r.key()))
	return nil
}

func (s *Domain) putService(r *serviceRec) error {
	return put(s, s.services, kindService, "service", r)
}
func (s *Domain) putSandbox(r *sandboxRec) error {
	return put(s, s.sandboxes, kindSandbox, "sandbox", r)
}
func (s *Domain) putSession(r *sessionRec) error {
	return put(s, s.sessions, kindSession, "session", r)
}

// loadTable reads every stored object of kind into t; each is passed to
// seen (for the highest resourceVersion, the tenants that exist).
func loadTable[T any, P interface {
	*T
	record
}](st store.Store, t *table[T], kind string, seen func(tenant string, r P)) error {
	return store.ScanJSON(st, kind, store.Range{}, func(tenant, key string, v *T) error {
		seen(tenant, P(v))
		t.set(tenant, key, v)
		return nil
	})
}

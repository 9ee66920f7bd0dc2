package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by a store after Close.
var ErrClosed = errors.New("store is closed")

// ErrStop, returned by a Scan callback, ends the scan early without error.
var ErrStop = errors.New("stop scan")

// Store persists objects as opaque documents keyed by kind, tenant and key.
// Every method is safe for concurrent use; a store may run concurrent calls
// in one commit (group commit).
type Store interface {
	// Put stores data under (kind, tenant, key), replacing any previous
	// value. When Put returns nil the write is durable.
	Put(kind, tenant, key string, data []byte) error
	// Delete removes (kind, tenant, key); deleting a missing key is not an
	// error. When Delete returns nil the removal is durable.
	Delete(kind, tenant, key string) error
	// Update runs fn in one transaction: when Update returns nil every
	// write fn made is durable; when fn or the commit fails none is.
	Update(fn func(Tx) error) error
	// Scan calls fn for the objects of kind in tenant then key order: every
	// tenant when r.Tenant is "", else only r.Tenant's objects whose key is
	// r.From or after it. A callback returning ErrStop ends the scan (Scan
	// returns nil); any other error ends it and is returned.
	Scan(kind string, r Range, fn func(tenant, key string, data []byte) error) error
	// Watch calls fn with every change committed after it returns (the
	// changes of one key in commit order) until cancel is called. fn runs on the committing
	// goroutine after the change is durable and must not block or call
	// the store.
	Watch(fn func(Change)) (cancel func())
	// Close releases the store; later calls return ErrClosed (Bolt:
	// bbolt's own error).
	Close() error
}

// Tx is the write side of one Update transaction.
type Tx interface {
	Put(kind, tenant, key string, data []byte) error
	Delete(kind, tenant, key string) error
}

// Range selects part of one kind's key space for Scan. The zero Range is
// every object.
type Range struct {
	Tenant string // "" = every tenant (From is then ignored)
	From   string // first key (inclusive) within Tenant; "" = the first
}

// Change is one committed write, as Watch delivers it.
type Change struct {
	Kind, Tenant, Key string
	Data              []byte // nil when Deleted
	Deleted           bool
}

// PutJSON stores v encoded as JSON.
func PutJSON[T any](s Store, kind, tenant, key string, v *T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s/%s: %w", kind, tenant, key, err)
	}
	return s.Put(kind, tenant, key, b)
}

// ScanJSON decodes every object of kind in r into a new T and calls fn.
func ScanJSON[T any](s Store, kind string, r Range, fn func(tenant, key string, v *T) error) error {
	return s.Scan(kind, r, func(tenant, key string, data []byte) error {
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("load %s %s/%s: %w", kind, tenant, key, err)
		}
		return fn(tenant, key, v)
	})
}

// joinKey joins tenant and key; tenant ids never contain NUL, so keys sort
// in tenant then key order.
func joinKey(tenant, key string) []byte {
	b := make([]byte, 0, len(tenant)+1+len(key))
	b = append(b, tenant...)
	b = append(b, 0)
	return append(b, key...)
}

func splitKey(k []byte) (tenant, key string, ok bool) {
	for i, c := range k {
		if c == 0 {
			return string(k[:i]), string(k[i+1:]), true
		}
	}
	return "", "", false
}

// inRange reports whether an object of tenant, met by a scan that started
// at seek(r), is still inside r.
func inRange(r Range, tenant string) bool { return r.Tenant == "" || tenant == r.Tenant }

// seek is the first joined key of r.
func seek(r Range) []byte {
	if r.Tenant == "" {
		return nil
	}
	return joinKey(r.Tenant, r.From)
}

// watchers fans committed changes out to Watch callbacks.
type watchers struct {
	mu   sync.RWMutex
	next int
	fns  map[int]func(Change)
}

func (w *watchers) add(fn func(Change)) func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = map[int]func(Change){}
	}
	id := w.next
	w.next++
	w.fns[id] = fn
	return func() {
		w.mu.Lock()
		delete(w.fns, id)
		w.mu.Unlock()
	}
}

func (w *watchers) publish(changes ...Change) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, fn := range w.fns {
		for _, c := range changes {
			fn(c)
		}
	}
}

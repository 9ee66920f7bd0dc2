package server

import "errors"

// Kinds of stored objects; each is one bucket of the store.
const (
	kindService = "services"
	kindSandbox = "sandboxes"
	kindSession = "sessions"
)

var storeKinds = []string{kindService, kindSandbox, kindSession, kindIdempotency}

// ErrStoreClosed is returned by a store after Close.
var ErrStoreClosed = errors.New("store is closed")

// Store persists objects as opaque JSON documents keyed by kind, tenant and
// key (a service name, sandbox id or session id). The server keeps every
// object in memory and serialises writes per object; the store only has to
// make each Put or Delete durable before it returns, and may run concurrent
// calls in one commit (group commit).
type Store interface {
	// Put stores data under (kind, tenant, key), replacing any previous value.
	// When Put returns nil the write is durable.
	Put(kind, tenant, key string, data []byte) error
	// Delete removes (kind, tenant, key); deleting a missing key is not an error.
	Delete(kind, tenant, key string) error
	// Load calls fn for every stored object of kind, in tenant then key order.
	Load(kind string, fn func(tenant, key string, data []byte) error) error
	// Close releases the store.
	Close() error
}

// StoreWrite is one Put of a PutAll.
type StoreWrite struct {
	Kind, Tenant, Key string
	Data              []byte
}

// BatchStore is implemented by stores that can make many Puts durable in
// one commit. Recovery after a restart records the state of every object it
// will bring back in one PutAll, so the server answers at once instead of
// after one synced write per object.
type BatchStore interface {
	// PutAll stores every write in one commit: when it returns nil all of
	// them are durable; on error none or all may be.
	PutAll(writes []StoreWrite) error
}

// storeKey joins tenant and key; tenant ids never contain NUL.
func storeKey(tenant, key string) []byte {
	b := make([]byte, 0, len(tenant)+1+len(key))
	b = append(b, tenant...)
	b = append(b, 0)
	return append(b, key...)
}

func splitStoreKey(k []byte) (tenant, key string, ok bool) {
	for i, c := range k {
		if c == 0 {
			return string(k[:i]), string(k[i+1:]), true
		}
	}
	return "", "", false
}

package server

import (
	"sort"
	"sync"
)

// MemStore is an in-memory Store for tests and --in-memory / --dev servers.
// Nothing survives the process.
type MemStore struct {
	mu     sync.Mutex
	closed bool
	data   map[string]map[string][]byte // kind -> storeKey -> data
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	m := &MemStore{data: map[string]map[string][]byte{}}
	for _, k := range storeKinds {
		m.data[k] = map[string][]byte{}
	}
	return m
}

// Put implements Store.
func (m *MemStore) Put(kind, tenant, key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStoreClosed
	}
	m.data[kind][string(storeKey(tenant, key))] = append([]byte(nil), data...)
	return nil
}

// PutAll implements BatchStore.
func (m *MemStore) PutAll(writes []StoreWrite) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStoreClosed
	}
	for _, w := range writes {
		m.data[w.Kind][string(storeKey(w.Tenant, w.Key))] = append([]byte(nil), w.Data...)
	}
	return nil
}

// Delete implements Store.
func (m *MemStore) Delete(kind, tenant, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStoreClosed
	}
	delete(m.data[kind], string(storeKey(tenant, key)))
	return nil
}

// Load implements Store.
func (m *MemStore) Load(kind string, fn func(tenant, key string, data []byte) error) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrStoreClosed
	}
	keys := make([]string, 0, len(m.data[kind]))
	for k := range m.data[kind] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = m.data[kind][k]
	}
	m.mu.Unlock()
	for i, k := range keys {
		t, key, _ := splitStoreKey([]byte(k))
		if err := fn(t, key, vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Store.
func (m *MemStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

package store

import (
	"errors"
	"slices"
	"sync"
)

// Mem is an in-memory Store for tests and --in-memory / --dev servers.
// Nothing survives the process.
type Mem struct {
	mu     sync.Mutex
	closed bool
	data   map[string]map[string][]byte // kind -> joinKey -> data
	watch  watchers
}

// NewMem returns an empty in-memory store.
func NewMem() *Mem { return &Mem{data: map[string]map[string][]byte{}} }

// memTx buffers one Update's writes; they apply when fn succeeds.
type memTx struct{ changes []Change }

func (t *memTx) Put(kind, tenant, key string, data []byte) error {
	t.changes = append(t.changes, Change{Kind: kind, Tenant: tenant, Key: key, Data: append([]byte(nil), data...)})
	return nil
}

func (t *memTx) Delete(kind, tenant, key string) error {
	t.changes = append(t.changes, Change{Kind: kind, Tenant: tenant, Key: key, Deleted: true})
	return nil
}

// apply commits changes (caller holds m.mu).
func (m *Mem) apply(changes []Change) {
	for _, c := range changes {
		k := string(joinKey(c.Tenant, c.Key))
		if c.Deleted {
			delete(m.data[c.Kind], k)
			continue
		}
		if m.data[c.Kind] == nil {
			m.data[c.Kind] = map[string][]byte{}
		}
		m.data[c.Kind][k] = c.Data
	}
}

func (m *Mem) commit(changes []Change) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.apply(changes)
	m.mu.Unlock()
	m.watch.publish(changes...)
	return nil
}

// Put implements Store.
func (m *Mem) Put(kind, tenant, key string, data []byte) error {
	t := &memTx{}
	_ = t.Put(kind, tenant, key, data)
	return m.commit(t.changes)
}

// Delete implements Store.
func (m *Mem) Delete(kind, tenant, key string) error {
	t := &memTx{}
	_ = t.Delete(kind, tenant, key)
	return m.commit(t.changes)
}

// Update implements Store.
func (m *Mem) Update(fn func(Tx) error) error {
	t := &memTx{}
	if err := fn(t); err != nil {
		return err
	}
	return m.commit(t.changes)
}

// Scan implements Store. It works on a snapshot taken when it starts.
func (m *Mem) Scan(kind string, r Range, fn func(tenant, key string, data []byte) error) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	start := string(seek(r))
	keys := make([]string, 0, len(m.data[kind]))
	for k := range m.data[kind] {
		if k >= start {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = m.data[kind][k]
	}
	m.mu.Unlock()
	for i, k := range keys {
		t, key, _ := splitKey([]byte(k))
		if !inRange(r, t) {
			return nil
		}
		if err := fn(t, key, append([]byte(nil), vals[i]...)); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// Watch implements Store.
func (m *Mem) Watch(fn func(Change)) func() { return m.watch.add(fn) }

// Close implements Store.
func (m *Mem) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

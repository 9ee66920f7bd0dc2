package domain

import (
	"encoding/json"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/google/btree"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Desired states the supervisor drives objects toward.
const (
	desiredRunning = "running"
	desiredStopped = "stopped"
)

// serviceRec is a stored service: the unredacted object plus what the
// supervisor should do with it (persisted so a restart can resume it).
type serviceRec struct {
	Service api.Service `json:"service"`
	Desired string      `json:"desired"`
}

// sandboxRec is a stored sandbox.
type sandboxRec struct {
	Sandbox api.Sandbox `json:"sandbox"`
	Desired string      `json:"desired"`
}

// sessionRec is a stored session.
type sessionRec struct {
	Session api.Session `json:"session"`
}

func (r *serviceRec) rv() string { return r.Service.Metadata.ResourceVersion }
func (r *sandboxRec) rv() string { return r.Sandbox.Metadata.ResourceVersion }
func (r *sessionRec) rv() string { return r.Session.Metadata.ResourceVersion }

// clone deep-copies a record through JSON. Cached records are immutable:
// writers clone, modify and replace.
func clone[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic("clone: " + err.Error())
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic("clone: " + err.Error())
	}
	return out
}

// table is the in-memory copy of one kind: tenant -> key -> record, with
// the ordered list indexes of index.go, kept exact under the table's lock.
type table[T any] struct {
	mu    sync.RWMutex
	m     map[string]*tenantRecs[T]
	attrs func(*T) recAttrs // what list filters look at; nil: lists do not filter

	visited atomic.Int64 // index entries visited by page, in total (for tests)
}

func newTable[T any]() *table[T] { return &table[T]{m: map[string]*tenantRecs[T]{}} }

// newListTable is a table whose lists filter on attrs.
func newListTable[T any](attrs func(*T) recAttrs) *table[T] {
	t := newTable[T]()
	t.attrs = attrs
	return t
}

func (t *table[T]) get(tenant, key string) *T {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if e := t.m[tenant].entry(key); e != nil {
		return e.rec
	}
	return nil
}

func (tr *tenantRecs[T]) entry(key string) *entry[T] {
	if tr == nil {
		return nil
	}
	return tr.recs[key]
}

func (t *table[T]) set(tenant, key string, v *T) {
	e := &entry[T]{key: key, rec: v}
	if t.attrs != nil {
		e.attrs = t.attrs(v)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.m[tenant]
	if tr == nil {
		tr = &tenantRecs[T]{recs: map[string]*entry[T]{}, idx: map[indexKey]*btree.BTreeG[string]{}}
		t.m[tenant] = tr
	}
	tr.put(key, e)
}

func (t *table[T]) del(tenant, key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr := t.m[tenant]; tr != nil {
		tr.remove(key)
	}
}

// page returns tenant's entries with keys > after, in key order, that match
// f, stopping after limit+1 matches (to tell whether more remain). It seeks
// in f's index, so it costs O(log n + limit), and nothing when no record
// matches f.
func (t *table[T]) page(tenant string, f listFilter, after string, limit int) []*entry[T] {
	t.mu.RLock()
	var out []*entry[T]
	n := 0
	if tr := t.m[tenant]; tr != nil {
		out = make([]*entry[T], 0, min(limit+1, len(tr.recs)))
		n = tr.seek(f, after, limit+1, func(e *entry[T]) { out = append(out, e) })
	}
	t.mu.RUnlock()
	t.visited.Add(int64(n))
	return out
}

// each returns every record of tenant, in no particular order.
func (t *table[T]) each(tenant string) []*T {
	t.mu.RLock()
	defer t.mu.RUnlock()
	tr := t.m[tenant]
	if tr == nil {
		return nil
	}
	out := make([]*T, 0, len(tr.recs))
	for _, e := range tr.recs {
		out = append(out, e.rec)
	}
	return out
}

// keysIn returns the keys of tenant's records that match f, in key order.
func (t *table[T]) keysIn(tenant string, f listFilter) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []string
	if tr := t.m[tenant]; tr != nil {
		tr.seek(f, "", len(tr.recs), func(e *entry[T]) { out = append(out, e.key) })
	}
	return out
}

// keysWhere returns the keys of tenant's records for which keep is true.
func (t *table[T]) keysWhere(tenant string, keep func(*T) bool) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []string
	if tr := t.m[tenant]; tr != nil {
		for k, e := range tr.recs {
			if keep(e.rec) {
				out = append(out, k)
			}
		}
	}
	return out
}

// keyLocks serialises writers per object key.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	mu sync.Mutex
	n  int
}

func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.n++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.n--
		if l.n == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// watchers wakes long-polls when an object changes. A watch is counted
// while a long-poll holds it and removed when the last holder releases it
// or the object changes, so the map only holds keys someone waits on: a
// long-poll on a missing name, or one that times out, leaves nothing behind.
type watchers struct {
	mu sync.Mutex
	m  map[string]*watch
}

type watch struct {
	ch chan struct{}
	n  int
}

// ch returns a channel closed at the next change of key, and a release
// func the caller must call (once) when it stops waiting.
func (w *watchers) ch(key string) (<-chan struct{}, func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]*watch{}
	}
	wt := w.m[key]
	if wt == nil {
		wt = &watch{ch: make(chan struct{})}
		w.m[key] = wt
	}
	wt.n++
	var once sync.Once
	return wt.ch, func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			wt.n--
			if wt.n == 0 && w.m[key] == wt {
				delete(w.m, key)
			}
		})
	}
}

func (w *watchers) notify(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if wt := w.m[key]; wt != nil {
		close(wt.ch)
		delete(w.m, key)
	}
}

// len is the number of keys being watched.
func (w *watchers) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}

func objKey(kind, tenant, key string) string { return kind + "/" + tenant + "/" + key }

func parseRV(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// tenants lists the tenants with records.
func (t *table[T]) tenants() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]string, 0, len(t.m))
	for k := range t.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

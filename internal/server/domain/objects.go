package domain

import (
	"encoding/json"
	"sort"
	"strconv"
	"sync"

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

// table is the in-memory copy of one kind: tenant -> key -> record.
type table[T any] struct {
	mu sync.RWMutex
	m  map[string]map[string]*T
}

func newTable[T any]() *table[T] { return &table[T]{m: map[string]map[string]*T{}} }

func (t *table[T]) get(tenant, key string) *T {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[tenant][key]
}

func (t *table[T]) set(tenant, key string, v *T) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[tenant] == nil {
		t.m[tenant] = map[string]*T{}
	}
	t.m[tenant][key] = v
}

func (t *table[T]) del(tenant, key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m[tenant], key)
}

// sorted returns tenant's records with keys > after, in key order, that
// match keep, stopping after limit+1 matches (to tell whether more remain).
func (t *table[T]) page(tenant, after string, limit int, keep func(*T) bool) (items []*T, keys []string) {
	t.mu.RLock()
	all := make([]string, 0, len(t.m[tenant]))
	for k := range t.m[tenant] {
		if k > after {
			all = append(all, k)
		}
	}
	recs := t.m[tenant]
	sort.Strings(all)
	for _, k := range all {
		v := recs[k]
		if keep(v) {
			items = append(items, v)
			keys = append(keys, k)
			if len(items) > limit {
				break
			}
		}
	}
	t.mu.RUnlock()
	return items, keys
}

// all returns every record of every tenant (for reconcile and scans).
func (t *table[T]) each(tenant string) []*T {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []*T
	for _, v := range t.m[tenant] {
		out = append(out, v)
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

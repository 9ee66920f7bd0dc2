package domain

import (
	"maps"
	"sync/atomic"

	"github.com/google/btree"
)

// Lists are served from ordered per-tenant indexes kept by the table (see
// objects.go) under its lock, so a page costs O(log n + limit) whatever the
// tenant's size: a page token seeks in the index of the list's filter
// instead of sorting the tenant's keys, and a filter that matches nothing
// finds no index at all.
//
// Every combination of the list filters (an optional state, an optional
// label key with an optional value) has its own index, holding exactly the
// keys of the records that match it, in key order. A record with state s and
// labels L is in 1 + 2|L| indexes without state (all; per label key; per key
// and value) and as many with state s.

// recAttrs are what list filters look at in a record.
type recAttrs struct {
	state  string
	labels map[string]string
}

func (a recAttrs) equal(b recAttrs) bool {
	return a.state == b.state && maps.Equal(a.labels, b.labels)
}

// listFilter is the filter of one list query; zero fields do not filter.
type listFilter struct {
	state      string
	labelKey   string
	labelValue string
	hasValue   bool // labelValue given (labelKey must be set)
}

// indexKey names one index: the records matching a listFilter.
type indexKey struct {
	state      string
	labelKey   string
	labelValue string
	hasValue   bool
}

func (f listFilter) index() indexKey {
	return indexKey(f)
}

// indexKeys lists every index a record with attributes a is in.
func (a recAttrs) indexKeys() []indexKey {
	states := []string{""}
	if a.state != "" {
		states = append(states, a.state)
	}
	out := make([]indexKey, 0, len(states)*(1+2*len(a.labels)))
	for _, s := range states {
		out = append(out, indexKey{state: s})
		for k, v := range a.labels {
			out = append(out, indexKey{state: s, labelKey: k}, indexKey{state: s, labelKey: k, labelValue: v, hasValue: true})
		}
	}
	return out
}

// matches reports whether a record with attributes a passes f (the
// brute-force definition the indexes must agree with).
func (f listFilter) matches(a recAttrs) bool {
	if f.state != "" && a.state != f.state {
		return false
	}
	if f.labelKey == "" {
		return true
	}
	v, ok := a.labels[f.labelKey]
	return ok && (!f.hasValue || v == f.labelValue)
}

// filter is the index filter of a list query.
func (q ListQuery) filter() listFilter {
	return listFilter{state: q.State, labelKey: q.LabelKey, labelValue: q.LabelValue, hasValue: q.HasValue}
}

const indexDegree = 32

func lessKey(a, b string) bool { return a < b }

// indexNodes is the free list of every index's nodes: one list shared by
// all indexes (it is safe for concurrent use), so an index of one key, such
// as a label value only one object has, costs little more than its node.
var indexNodes = btree.NewFreeListG[string](btree.DefaultFreeListSize)

func newIndex() *btree.BTreeG[string] {
	return btree.NewWithFreeListG(indexDegree, lessKey, indexNodes)
}

// entry is one record in a table with what the indexes and lists derive
// from it. A new entry is made on every set, so enc never outlives the
// (immutable) record it was encoded from.
type entry[T any] struct {
	key   string
	rec   *T
	attrs recAttrs
	enc   atomic.Pointer[[]byte] // the record's list item JSON, once encoded
}

// tenantRecs is one tenant's records and indexes.
type tenantRecs[T any] struct {
	recs map[string]*entry[T]
	idx  map[indexKey]*btree.BTreeG[string]
}

func (tr *tenantRecs[T]) index(k indexKey, key string) {
	ix := tr.idx[k]
	if ix == nil {
		ix = newIndex()
		tr.idx[k] = ix
	}
	ix.ReplaceOrInsert(key)
}

func (tr *tenantRecs[T]) unindex(k indexKey, key string) {
	ix := tr.idx[k]
	if ix == nil {
		return
	}
	ix.Delete(key)
	if ix.Len() == 0 {
		delete(tr.idx, k) // no empty indexes left behind by changing labels
	}
}

// put replaces key's entry, moving the key between indexes as its
// attributes changed.
func (tr *tenantRecs[T]) put(key string, e *entry[T]) {
	old := tr.recs[key]
	tr.recs[key] = e
	if old != nil && old.attrs.equal(e.attrs) {
		return
	}
	if old != nil {
		for _, k := range old.attrs.indexKeys() {
			tr.unindex(k, key)
		}
	}
	for _, k := range e.attrs.indexKeys() {
		tr.index(k, key)
	}
}

func (tr *tenantRecs[T]) remove(key string) {
	old := tr.recs[key]
	if old == nil {
		return
	}
	delete(tr.recs, key)
	for _, k := range old.attrs.indexKeys() {
		tr.unindex(k, key)
	}
}

// seek visits, in key order, up to n keys > after in the index of f.
// It returns how many index entries it visited.
func (tr *tenantRecs[T]) seek(f listFilter, after string, n int, fn func(*entry[T])) int {
	ix := tr.idx[f.index()]
	if ix == nil || n <= 0 {
		return 0
	}
	visited := 0
	// after+"\x00" is the least string greater than after.
	ix.AscendGreaterOrEqual(after+"\x00", func(key string) bool {
		visited++
		fn(tr.recs[key])
		return visited < n
	})
	return visited
}

// The list filters of each kind: labels and lifecycle state.

func serviceAttrs(r *serviceRec) recAttrs {
	return recAttrs{state: r.Service.Status.LifecycleState, labels: r.Service.Metadata.Labels}
}

func sandboxAttrs(r *sandboxRec) recAttrs {
	return recAttrs{state: r.Sandbox.Status.LifecycleState, labels: r.Sandbox.Metadata.Labels}
}

func sessionAttrs(r *sessionRec) recAttrs {
	return recAttrs{state: r.Session.Status.LifecycleState, labels: r.Session.Metadata.Labels}
}

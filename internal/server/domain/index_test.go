package domain

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// ---------------------------------------------------------- table and index

var (
	testStates = []string{"stopped", "starting", "running", "failed"}
	testLabelK = []string{"team", "tier", "app.example.com/part"}
	testLabelV = []string{"a", "b", "", "c"} // "" is a valid label value
)

func randomService(r *rand.Rand, tenant, name string) *serviceRec {
	labels := map[string]string{}
	for _, k := range testLabelK {
		if r.IntN(2) == 0 {
			labels[k] = testLabelV[r.IntN(len(testLabelV))]
		}
	}
	if len(labels) == 0 && r.IntN(2) == 0 {
		labels = nil
	}
	return &serviceRec{Service: api.Service{
		Metadata: api.ObjectMeta{Name: name, TenantID: tenant, Labels: labels, ResourceVersion: fmt.Sprint(r.Uint32())},
		Spec:     api.ServiceSpec{Backend: api.Backend{Kind: api.BackendKindBuiltIn, Provider: "loadBalancer"}},
		Status:   api.ServiceStatus{LifecycleState: testStates[r.IntN(len(testStates))]},
	}}
}

// allFilters is every filter over the test's states and labels, plus ones
// that match nothing.
func allFilters() []listFilter {
	fs := []listFilter{{}, {state: "stopping"}, {labelKey: "absent"}, {labelKey: "team", labelValue: "zzz", hasValue: true}}
	for _, st := range append([]string{""}, testStates...) {
		fs = append(fs, listFilter{state: st})
		for _, k := range testLabelK {
			fs = append(fs, listFilter{state: st, labelKey: k})
			for _, v := range testLabelV {
				fs = append(fs, listFilter{state: st, labelKey: k, labelValue: v, hasValue: true})
			}
		}
	}
	return fs
}

// scanPage is the definition page must agree with: every key > after in
// order, filtered, the first limit+1.
func scanPage(truth map[string]*serviceRec, f listFilter, after string, limit int) []string {
	var keys []string
	for k, v := range truth {
		if k > after && f.matches(serviceAttrs(v)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > limit+1 {
		keys = keys[:limit+1]
	}
	return keys
}

func pageKeys(t *table[serviceRec], tenant string, f listFilter, after string, limit int) []string {
	var out []string
	for _, e := range t.page(tenant, f, after, limit) {
		if got := e.rec.Service.Metadata.Name; got != e.key {
			panic("entry key " + e.key + " holds " + got)
		}
		out = append(out, e.key)
	}
	return out
}

// checkIndexes compares every index of tenant with a scan of truth and
// checks that no empty index is left behind.
func checkIndexes(t *testing.T, tb *table[serviceRec], tenant string, truth map[string]*serviceRec) {
	t.Helper()
	tb.mu.RLock()
	tr := tb.m[tenant]
	want := map[indexKey][]string{}
	for k, v := range truth {
		for _, ik := range serviceAttrs(v).indexKeys() {
			want[ik] = append(want[ik], k)
		}
	}
	got := map[indexKey][]string{}
	if tr != nil {
		if len(tr.recs) != len(truth) {
			t.Errorf("tenant %s: %d records, want %d", tenant, len(tr.recs), len(truth))
		}
		for ik, ix := range tr.idx {
			if ix.Len() == 0 {
				t.Errorf("tenant %s: empty index %+v left behind", tenant, ik)
			}
			ix.Ascend(func(k string) bool { got[ik] = append(got[ik], k); return true })
		}
	}
	tb.mu.RUnlock()
	for ik := range want {
		slices.Sort(want[ik])
	}
	if len(got) != len(want) {
		t.Errorf("tenant %s: %d indexes, want %d", tenant, len(got), len(want))
	}
	for ik, w := range want {
		if !slices.Equal(got[ik], w) {
			t.Errorf("tenant %s index %+v: %v, want %v", tenant, ik, got[ik], w)
		}
	}
}

// TestTableIndexMatchesScan: under random sets (new keys, changed labels
// and states, unchanged attributes) and deletes, every page of every filter
// from every kind of cursor is what a brute-force scan gives, and the
// indexes hold exactly the matching keys.
func TestTableIndexMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tb := newListTable(serviceAttrs)
	tenants := []string{"acc", "other"}
	truth := map[string]map[string]*serviceRec{"acc": {}, "other": {}}
	filters := allFilters()
	for step := range 3000 {
		tenant := tenants[r.IntN(len(tenants))]
		name := fmt.Sprintf("svc-%03d", r.IntN(150))
		switch op := r.IntN(10); {
		case op < 6:
			v := randomService(r, tenant, name)
			tb.set(tenant, name, v)
			truth[tenant][name] = v
		case op < 7 && truth[tenant][name] != nil: // a status-only write: same attributes, new record
			v := clone(truth[tenant][name])
			v.Service.Metadata.ResourceVersion += "1"
			tb.set(tenant, name, v)
			truth[tenant][name] = v
		default:
			tb.del(tenant, name)
			delete(truth[tenant], name)
		}
		if got := tb.get(tenant, name); got != truth[tenant][name] {
			t.Fatalf("step %d: get %s/%s = %p, want %p", step, tenant, name, got, truth[tenant][name])
		}
		if step%100 != 0 {
			continue
		}
		for _, tenant := range tenants {
			checkIndexes(t, tb, tenant, truth[tenant])
			for _, f := range filters {
				for _, limit := range []int{1, 7, 200} {
					after := ""
					for range 3 {
						want := scanPage(truth[tenant], f, after, limit)
						if got := pageKeys(tb, tenant, f, after, limit); !slices.Equal(got, want) {
							t.Fatalf("step %d %s %+v after %q limit %d: %v, want %v", step, tenant, f, after, limit, got, want)
						}
						after = fmt.Sprintf("svc-%03d", r.IntN(160)) // keys present or not
					}
				}
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	if got := pageKeys(tb, "nobody", listFilter{}, "", 10); len(got) != 0 {
		t.Fatalf("unknown tenant: %v", got)
	}
}

// TestTableIndexExactUnderConcurrentWrites: writers on overlapping keys and
// readers walking pages at the same time (run it with -race); afterwards the
// indexes agree exactly with the records.
func TestTableIndexExactUnderConcurrentWrites(t *testing.T) {
	tb := newListTable(serviceAttrs)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 2000 {
				name := fmt.Sprintf("svc-%03d", r.IntN(100))
				if r.IntN(4) == 0 {
					tb.del("acc", name)
				} else {
					tb.set("acc", name, randomService(r, "acc", name))
				}
			}
		}()
	}
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for _, f := range slices.Repeat(allFilters(), 100) {
				select {
				case <-stop:
					return
				default:
				}
				prev := ""
				for _, e := range tb.page("acc", f, "", 5) {
					if e.key <= prev || !f.matches(e.attrs) {
						t.Errorf("page %+v: %s after %s, attrs %+v", f, e.key, prev, e.attrs)
						return
					}
					prev = e.key
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	truth := map[string]*serviceRec{}
	for _, v := range tb.each("acc") {
		truth[v.Service.Metadata.Name] = v
	}
	checkIndexes(t, tb, "acc", truth)
}

// ---------------------------------------------------------- list pages

func newListDomain(t testing.TB) *Domain {
	t.Helper()
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// pageJSON is the page as the HTTP layer answers it: the items' JSON in a
// list (see httpapi's writeList, tested there to be byte for byte
// json.Marshal of the api.*List) and the key its nextPageToken names.
func pageJSON(t testing.TB, d *Domain, q ListQuery) (items string, next string) {
	t.Helper()
	page, err := d.ListServices("acc", q)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]string, len(page.Items))
	for i, b := range page.Items {
		parts[i] = string(b)
	}
	return "[" + strings.Join(parts, ",") + "]", page.Next
}

// oldServiceList is how a service list was answered before the indexes and
// the item cache: every key of the tenant sorted, filtered, the items
// redacted and marshalled in one go; next is the last item's name when
// more remain.
func oldServiceList(d *Domain, tenant string, q ListQuery) (items string, next string) {
	var keys []string
	recs := map[string]*serviceRec{}
	for _, c := range d.services.each(tenant) {
		if k := c.Service.Metadata.Name; k > q.After {
			keys = append(keys, k)
			recs[k] = c
		}
	}
	slices.Sort(keys)
	out := []api.Service{}
	for _, k := range keys {
		c := recs[k]
		if !q.filter().matches(serviceAttrs(c)) {
			continue
		}
		if len(out) == q.Limit {
			next = out[q.Limit-1].Metadata.Name
			break
		}
		out = append(out, c.Service.Redacted())
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return string(b), next
}

// seedServices puts n services with secrets (external bearer tokens,
// sandbox environments) in every state and with labels straight into the
// table.
func seedServices(d *Domain, n int, r *rand.Rand) {
	for i := range n {
		name := fmt.Sprintf("svc-%05d", i)
		v := randomService(r, "acc", name)
		switch i % 3 {
		case 1:
			v.Service.Spec.Backend = api.Backend{Kind: api.BackendKindExternal, Endpoint: &api.ExternalEndpoint{URL: "https://db.example:9200"},
				Auth: &api.ExternalAuth{Kind: "bearer", Token: &api.Secret{Value: "TOPSECRET-" + name}}}
		case 2:
			v.Service.Spec.Backend = api.Backend{Kind: api.BackendKindSandbox, Sandbox: &api.SandboxSpec{
				Owner: api.Owner{Kind: api.OwnerKindService, ServiceName: name}, Backend: "krun",
				Process: api.Process{Argv: api.RedactableList{Values: []string{"serve", "--password=TOPSECRET"}},
					Environment: api.RedactableMap{Values: map[string]string{"KEY": "TOPSECRET<&>"}}}}}
		}
		d.services.set("acc", name, v)
	}
}

func query(f listFilter, limit int, after string) ListQuery {
	return ListQuery{Limit: limit, After: after, State: f.state, LabelKey: f.labelKey, LabelValue: f.labelValue, HasValue: f.hasValue}
}

// TestListFiltersAcrossPages: for every label and state filter, walking the
// pages gives, page by page, byte for byte the items the list answered
// before (same items in the same order, same redactions, same next key),
// twice (the second time from the item cache).
func TestListFiltersAcrossPages(t *testing.T) {
	d := newListDomain(t)
	seedServices(d, 150, rand.New(rand.NewPCG(3, 4)))
	for _, f := range allFilters() {
		for _, limit := range []int{1, 13, 1000} {
			for pass := range 2 {
				after, pages, seen := "", 0, 0
				for {
					q := query(f, limit, after)
					got, next := pageJSON(t, d, q)
					if want, wantNext := oldServiceList(d, "acc", q); got != want || next != wantNext {
						t.Fatalf("%+v limit %d pass %d page %d:\n got %s (next %q)\nwant %s (next %q)", f, limit, pass, pages, got, next, want, wantNext)
					}
					if strings.Contains(got, "TOPSECRET") {
						t.Fatalf("secret in list: %s", got)
					}
					var items []api.Service
					if err := json.Unmarshal([]byte(got), &items); err != nil {
						t.Fatal(err)
					}
					for _, it := range items {
						if !f.matches(recAttrs{state: it.Status.LifecycleState, labels: it.Metadata.Labels}) {
							t.Fatalf("%+v: %s does not match", f, it.Metadata.Name)
						}
					}
					seen += len(items)
					pages++
					if after = next; after == "" {
						break
					}
				}
				if want := len(scanPage(servicesOf(d), f, "", 1<<30)); seen != want {
					t.Fatalf("%+v limit %d: %d items over %d pages, want %d", f, limit, seen, pages, want)
				}
			}
		}
	}
}

func servicesOf(d *Domain) map[string]*serviceRec {
	out := map[string]*serviceRec{}
	for _, v := range d.services.each("acc") {
		out[v.Service.Metadata.Name] = v
	}
	return out
}

// TestListItemCacheFollowsWrites: a list after a write shows the written
// record, not the bytes cached for the one before; a deleted record is gone.
func TestListItemCacheFollowsWrites(t *testing.T) {
	d := newListDomain(t)
	seedServices(d, 5, rand.New(rand.NewPCG(5, 6)))
	pageJSON(t, d, ListQuery{Limit: 100}) // fills the cache
	next := clone(d.services.get("acc", "svc-00002"))
	next.Service.Metadata.ResourceVersion = "999999"
	next.Service.Metadata.Labels = map[string]string{"team": "new"}
	next.Service.Status.LifecycleState = "stopping"
	d.services.set("acc", "svc-00002", next)
	d.services.del("acc", "svc-00004")
	q := ListQuery{Limit: 100}
	got, _ := pageJSON(t, d, q)
	if want, _ := oldServiceList(d, "acc", q); got != want {
		t.Fatalf("after writes:\n got %s\nwant %s", got, want)
	}
	got, _ = pageJSON(t, d, query(listFilter{state: "stopping", labelKey: "team", labelValue: "new", hasValue: true}, 100, ""))
	var items []api.Service
	if err := json.Unmarshal([]byte(got), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Metadata.ResourceVersion != "999999" {
		t.Fatalf("filtered on the new labels and state: %+v", items)
	}
}

// TestListFilterMatchingNothingVisitsNoIndexEntry: over 10,000 services, a
// filter that matches nothing visits no index entry at all (it finds no
// index), one that matches only the last service visits one, and a page of
// 100 visits 101 (the extra one tells whether more remain), wherever the
// cursor is.
func TestListFilterMatchingNothingVisitsNoIndexEntry(t *testing.T) {
	d := newListDomain(t)
	seedServices(d, 10000, rand.New(rand.NewPCG(7, 8)))
	last := clone(d.services.get("acc", "svc-09999"))
	last.Service.Metadata.Labels = map[string]string{"only": "me"}
	last.Service.Status.LifecycleState = "stopped"
	d.services.set("acc", "svc-09999", last)
	visits := func(q ListQuery) int64 {
		before := d.services.visited.Load()
		pageJSON(t, d, q)
		return d.services.visited.Load() - before
	}
	for _, f := range []listFilter{
		{state: "stopping"},
		{labelKey: "absent"},
		{labelKey: "team", labelValue: "zzz", hasValue: true},
		{state: "running", labelKey: "only"},
		{state: "stopping", labelKey: "team", labelValue: "a", hasValue: true},
	} {
		if n := visits(query(f, 100, "")); n != 0 {
			t.Errorf("%+v (matches nothing) visited %d index entries", f, n)
		}
	}
	if n := visits(query(listFilter{labelKey: "only", labelValue: "me", hasValue: true}, 100, "")); n != 1 {
		t.Errorf("a filter matching one service visited %d index entries", n)
	}
	if n := visits(ListQuery{Limit: 100}); n != 101 {
		t.Errorf("a page of 100 visited %d index entries", n)
	}
	if n := visits(ListQuery{Limit: 100, After: "svc-05000"}); n != 101 {
		t.Errorf("a page of 100 from the middle visited %d index entries", n)
	}
}

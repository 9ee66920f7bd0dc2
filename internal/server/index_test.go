package server

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// ---------------------------------------------------------- through HTTP

func newListServer(t testing.TB) *Server {
	t.Helper()
	s, err := New(Config{Tenants: []string{"acc"},
		Credentials: []Credential{{Kind: CredentialToken, Secret: "t", Tenants: []string{"*"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func getList(t testing.TB, h http.Handler, path string) []byte {
	t.Helper()
	req := httptest.NewRequest("GET", path, http.NoBody)
	req.Header.Set("Authorization", "Bearer t")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %s %s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	return rec.Body.Bytes()
}

// oldServiceList is how a service list was answered before the indexes and
// the item cache: every key of the tenant sorted, filtered, the items
// redacted and the list marshalled in one go.
func oldServiceList(s *Server, tenant string, p listParams) []byte {
	var keys []string
	recs := map[string]*serviceRec{}
	for _, c := range s.services.each(tenant) {
		if k := c.Service.Metadata.Name; k > p.after {
			keys = append(keys, k)
			recs[k] = c
		}
	}
	slices.Sort(keys)
	out := api.ServiceList{Items: []api.Service{}}
	for _, k := range keys {
		c := recs[k]
		if !p.filter().matches(serviceAttrs(c)) {
			continue
		}
		if len(out.Items) == p.limit {
			out.Metadata.NextPageToken = s.encodePageToken(kindService, tenant, p, out.Items[p.limit-1].Metadata.Name)
			break
		}
		out.Items = append(out.Items, c.Service.Redacted())
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// seedServices puts n services with secrets (external bearer tokens,
// sandbox environments) in every state and with labels straight into the
// table.
func seedServices(s *Server, n int, r *rand.Rand) {
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
		s.services.set("acc", name, v)
	}
}

func listQuery(f listFilter, limit int, tok string) string {
	q := url.Values{"limit": {fmt.Sprint(limit)}}
	if f.state != "" {
		q.Set("lifecycleState", f.state)
	}
	if f.labelKey != "" {
		q.Set("labelKey", f.labelKey)
	}
	if f.hasValue {
		q.Set("labelValue", f.labelValue)
	}
	if tok != "" {
		q.Set("pageToken", tok)
	}
	return "/v1/tenants/acc/services?" + q.Encode()
}

// TestListFiltersAcrossPages: for every label and state filter, walking the
// pages gives, page by page, byte for byte what the list answered before
// (same items in the same order, same redactions, same nextPageToken), twice
// (the second time from the item cache).
func TestListFiltersAcrossPages(t *testing.T) {
	s := newListServer(t)
	seedServices(s, 150, rand.New(rand.NewPCG(3, 4)))
	h := s.Handler()
	for _, f := range allFilters() {
		for _, limit := range []int{1, 13, 1000} {
			for pass := range 2 {
				p := listParams{limit: limit, state: f.state, labelKey: f.labelKey, labelValue: f.labelValue, hasValue: f.hasValue}
				tok, pages, seen := "", 0, 0
				for {
					got := getList(t, h, listQuery(f, limit, tok))
					if want := oldServiceList(s, "acc", p); string(got) != string(want) {
						t.Fatalf("%+v limit %d pass %d page %d:\n got %s\nwant %s", f, limit, pass, pages, got, want)
					}
					if strings.Contains(string(got), "TOPSECRET") {
						t.Fatalf("secret in list: %s", got)
					}
					var l api.ServiceList
					if err := json.Unmarshal(got, &l); err != nil {
						t.Fatal(err)
					}
					for _, it := range l.Items {
						if !f.matches(recAttrs{state: it.Status.LifecycleState, labels: it.Metadata.Labels}) {
							t.Fatalf("%+v: %s does not match", f, it.Metadata.Name)
						}
					}
					seen += len(l.Items)
					pages++
					if tok = l.Metadata.NextPageToken; tok == "" {
						break
					}
					after, e := s.decodePageToken(kindService, "acc", p, tok)
					if e != nil {
						t.Fatal(e.message)
					}
					p.after = after
				}
				if want := len(scanPage(servicesOf(s), f, "", 1<<30)); seen != want {
					t.Fatalf("%+v limit %d: %d items over %d pages, want %d", f, limit, seen, pages, want)
				}
			}
		}
	}
}

func servicesOf(s *Server) map[string]*serviceRec {
	out := map[string]*serviceRec{}
	for _, v := range s.services.each("acc") {
		out[v.Service.Metadata.Name] = v
	}
	return out
}

// TestListItemCacheFollowsWrites: a list after a write shows the written
// record, not the bytes cached for the one before; a deleted record is gone.
func TestListItemCacheFollowsWrites(t *testing.T) {
	s := newListServer(t)
	seedServices(s, 5, rand.New(rand.NewPCG(5, 6)))
	h := s.Handler()
	getList(t, h, listQuery(listFilter{}, 100, "")) // fills the cache
	next := clone(s.services.get("acc", "svc-00002"))
	next.Service.Metadata.ResourceVersion = "999999"
	next.Service.Metadata.Labels = map[string]string{"team": "new"}
	next.Service.Status.LifecycleState = "stopping"
	s.services.set("acc", "svc-00002", next)
	s.services.del("acc", "svc-00004")
	p := listParams{limit: 100}
	if got, want := getList(t, h, listQuery(listFilter{}, 100, "")), oldServiceList(s, "acc", p); string(got) != string(want) {
		t.Fatalf("after writes:\n got %s\nwant %s", got, want)
	}
	var l api.ServiceList
	if err := json.Unmarshal(getList(t, h, listQuery(listFilter{state: "stopping", labelKey: "team", labelValue: "new", hasValue: true}, 100, "")), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 || l.Items[0].Metadata.ResourceVersion != "999999" {
		t.Fatalf("filtered on the new labels and state: %+v", l.Items)
	}
}

// TestListFilterMatchingNothingVisitsNoIndexEntry: over 10,000 services, a
// filter that matches nothing visits no index entry at all (it finds no
// index), one that matches only the last service visits one, and a page of
// 100 visits 101 (the extra one tells whether more remain), wherever the
// cursor is.
func TestListFilterMatchingNothingVisitsNoIndexEntry(t *testing.T) {
	s := newListServer(t)
	seedServices(s, 10000, rand.New(rand.NewPCG(7, 8)))
	last := clone(s.services.get("acc", "svc-09999"))
	last.Service.Metadata.Labels = map[string]string{"only": "me"}
	last.Service.Status.LifecycleState = "stopped"
	s.services.set("acc", "svc-09999", last)
	h := s.Handler()
	visits := func(f listFilter, limit int) int64 {
		before := s.services.visited.Load()
		getList(t, h, listQuery(f, limit, ""))
		return s.services.visited.Load() - before
	}
	for _, f := range []listFilter{
		{state: "stopping"},
		{labelKey: "absent"},
		{labelKey: "team", labelValue: "zzz", hasValue: true},
		{state: "running", labelKey: "only"},
		{state: "stopping", labelKey: "team", labelValue: "a", hasValue: true},
	} {
		if n := visits(f, 100); n != 0 {
			t.Errorf("%+v (matches nothing) visited %d index entries", f, n)
		}
	}
	if n := visits(listFilter{labelKey: "only", labelValue: "me", hasValue: true}, 100); n != 1 {
		t.Errorf("a filter matching one service visited %d index entries", n)
	}
	if n := visits(listFilter{}, 100); n != 101 {
		t.Errorf("a page of 100 visited %d index entries", n)
	}
	p := listParams{limit: 100}
	tok := s.encodePageToken(kindService, "acc", p, "svc-05000")
	before := s.services.visited.Load()
	getList(t, h, listQuery(listFilter{}, 100, tok))
	if n := s.services.visited.Load() - before; n != 101 {
		t.Errorf("a page of 100 from the middle visited %d index entries", n)
	}
}

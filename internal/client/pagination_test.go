package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// pagedServer serves n services in pages, honouring limit, pageToken and a
// team label filter; failAt makes the page at that offset fail.
func pagedServer(t *testing.T, n int, failAt int, loopToken bool) (*Client, *[]string) {
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		queries = append(queries, r.URL.RawQuery)
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit == 0 {
			limit = 100
		}
		off := 0
		if tok := q.Get("pageToken"); tok != "" {
			var err error
			if off, err = strconv.Atoi(tok[1:]); err != nil {
				writeAPIError(w, api.CodeInvalid, "bad page token", "r", nil)
				return
			}
		}
		if failAt > 0 && off >= failAt {
			writeAPIError(w, api.CodeInternal, "boom", "r", nil)
			return
		}
		var items []api.Service
		for i := 0; i < n; i++ {
			team := "a"
			if i%2 == 1 {
				team = "b"
			}
			if q.Get("labelKey") == "team" && q.Get("labelValue") != team {
				continue
			}
			items = append(items, api.Service{Metadata: api.ObjectMeta{Name: fmt.Sprintf("svc-%03d", i), Labels: map[string]string{"team": team}}})
		}
		list := api.ServiceList{}
		end := min(off+limit, len(items))
		if off < len(items) {
			list.Items = items[off:end]
		}
		if end < len(items) {
			list.Metadata.NextPageToken = "p" + strconv.Itoa(end)
		}
		if loopToken {
			list.Metadata.NextPageToken = "p0"
		}
		_ = json.NewEncoder(w).Encode(list)
	}))
	t.Cleanup(srv.Close)
	return newTestClient(t, srv.URL), &queries
}

func TestAllFollowsPageTokens(t *testing.T) {
	c, queries := pagedServer(t, 95, 0, false)
	var names []string
	for s, err := range c.Services.All(t.Context(), ListServicesOptions{Limit: 7, LabelKey: "team", LabelValue: "b"}) {
		if err != nil {
			t.Fatal(err)
		}
		if s.Metadata.Labels["team"] != "b" {
			t.Fatalf("filter not applied: %+v", s.Metadata)
		}
		names = append(names, s.Metadata.Name)
	}
	if len(names) != 47 || names[0] != "svc-001" || names[46] != "svc-093" {
		t.Fatalf("got %d items: %v", len(names), names)
	}
	if len(*queries) != 7 {
		t.Fatalf("pages fetched = %d, want 7", len(*queries))
	}
	for _, q := range *queries {
		if q[:len("labelKey=team&labelValue=b&limit=7")] != "labelKey=team&labelValue=b&limit=7" {
			t.Fatalf("filters not kept on every page: %q", q)
		}
	}
}

func TestAllStopsEarlyAndReportsErrors(t *testing.T) {
	c, queries := pagedServer(t, 50, 0, false)
	n := 0
	for _, err := range c.Services.All(t.Context(), ListServicesOptions{Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 12 {
			break
		}
	}
	if len(*queries) != 2 {
		t.Fatalf("breaking early fetched %d pages", len(*queries))
	}

	c, _ = pagedServer(t, 50, 20, false)
	n = 0
	var last error
	for _, err := range c.Services.All(t.Context(), ListServicesOptions{Limit: 10}) {
		if err != nil {
			last = err
			continue
		}
		n++
	}
	if n != 20 || Code(last) != api.CodeInternal {
		t.Fatalf("n=%d err=%v", n, last)
	}

	c, _ = pagedServer(t, 50, 0, true)
	n = 0
	last = nil
	for _, err := range c.Services.All(t.Context(), ListServicesOptions{Limit: 10}) {
		if err != nil {
			last = err
			break
		}
		n++
		if n > 100 {
			t.Fatal("endless pagination")
		}
	}
	if last == nil {
		t.Fatal("a repeating page token must end the iteration with an error")
	}
}

func TestSandboxAndSessionIterators(t *testing.T) {
	page := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page++
		next := ""
		if page < 3 {
			next = "t" + strconv.Itoa(page)
		}
		if r.URL.Query().Get("pageToken") != map[int]string{1: "", 2: "t1", 3: "t2"}[page] {
			t.Errorf("page %d token %q", page, r.URL.Query().Get("pageToken"))
		}
		if r.URL.Path == "/v1/tenants/acc/sandboxes" {
			_ = json.NewEncoder(w).Encode(api.SandboxList{Items: []api.Sandbox{{}, {}}, Metadata: api.ListMeta{NextPageToken: next}})
		} else {
			_ = json.NewEncoder(w).Encode(api.SessionList{Items: []api.Session{{}}, Metadata: api.ListMeta{NextPageToken: next}})
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	n := 0
	for _, err := range c.Sandboxes.All(t.Context(), ListSandboxesOptions{LifecycleState: "running"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 6 {
		t.Fatalf("sandboxes: %d", n)
	}
	page, n = 0, 0
	for _, err := range c.Sessions.All(t.Context(), ListSessionsOptions{State: "open"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("sessions: %d", n)
	}
}

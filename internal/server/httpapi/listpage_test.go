package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
)

// TestWriteListIsTheMarshalledList: a page assembled from its items' JSON
// is byte for byte json.Marshal of the api.*List (plus writeJSON's
// newline), with and without items and a nextPageToken.
func TestWriteListIsTheMarshalledList(t *testing.T) {
	s := &API{log: slog.New(slog.DiscardHandler)}
	svc := func(name string) api.Service {
		return api.Service{Metadata: api.ObjectMeta{Name: name, TenantID: "acc", Labels: map[string]string{"k": "<&>"}},
			Status: api.ServiceStatus{LifecycleState: api.ServiceRunning}}
	}
	for _, c := range []struct {
		items []api.Service
		token string
	}{
		{nil, ""},
		{[]api.Service{svc("a")}, ""},
		{[]api.Service{svc("a"), svc("b"), svc("c")}, "tok.en"},
	} {
		var page domain.Page
		page.Items = []json.RawMessage{}
		for _, it := range c.items {
			b, err := json.Marshal(it)
			if err != nil {
				t.Fatal(err)
			}
			page.Items = append(page.Items, b)
		}
		rec := httptest.NewRecorder()
		s.writeList(rec, page, c.token, nil)
		want := api.ServiceList{Items: append([]api.Service{}, c.items...)}
		want.Metadata.NextPageToken = c.token
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Body.String(); got != string(b)+"\n" || rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%d items, token %q: %d %s\n got %s\nwant %s", len(c.items), c.token, rec.Code, rec.Header(), got, b)
		}
	}
}

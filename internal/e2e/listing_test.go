package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestPaginationWithFilters lists many pages with label and state filters.
func TestPaginationWithFilters(t *testing.T) {
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	const n = 230
	want := map[string][]string{}
	for i := 0; i < n; i++ {
		team := []string{"a", "b", "c"}[i%3]
		name := fmt.Sprintf("svc-%03d", i)
		mustCreate(t, c, testfixtures.BuiltInService(name, api.ProviderServiceDiscovery, map[string]string{"team": team}))
		want[team] = append(want[team], name)
		want[""] = append(want[""], name)
	}
	running := []string{"svc-001", "svc-003", "svc-100", "svc-229"}
	for _, name := range running {
		mustStart(t, c, name)
	}

	collect := func(lo client.ListServicesOptions) []string {
		t.Helper()
		var names []string
		for s, err := range c.Services.All(ctx, lo) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, s.Metadata.Name)
		}
		return names
	}
	check := func(what string, got, want []string) {
		t.Helper()
		g, w := append([]string(nil), got...), append([]string(nil), want...)
		sort.Strings(g)
		sort.Strings(w)
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Fatalf("%s: got %d items %v, want %d", what, len(got), got, len(want))
		}
		seen := map[string]bool{}
		for _, x := range got {
			if seen[x] {
				t.Fatalf("%s: %s listed twice", what, x)
			}
			seen[x] = true
		}
	}
	for _, limit := range []int{1, 7, 100, 1000, 0} {
		check(fmt.Sprintf("all, limit %d", limit), collect(client.ListServicesOptions{Limit: limit}), want[""])
	}
	check("team=b", collect(client.ListServicesOptions{Limit: 9, LabelKey: "team", LabelValue: "b"}), want["b"])
	check("running", collect(client.ListServicesOptions{Limit: 2, LifecycleState: api.ServiceRunning}), running)
	var runningB []string
	for _, r := range running {
		var k int
		_, _ = fmt.Sscanf(r, "svc-%d", &k)
		if k%3 == 1 {
			runningB = append(runningB, r)
		}
	}
	check("running team=b", collect(client.ListServicesOptions{Limit: 1, LifecycleState: api.ServiceRunning, LabelKey: "team", LabelValue: "b"}), runningB)
	check("running team=a", collect(client.ListServicesOptions{Limit: 1, LifecycleState: api.ServiceRunning, LabelKey: "team", LabelValue: "a"}), []string{"svc-003"})

	// Page sizes and the default limit.
	page, err := c.Services.List(ctx, client.ListServicesOptions{})
	if err != nil || len(page.Items) != api.DefaultPageLimit || page.Metadata.NextPageToken == "" {
		t.Fatalf("default page: %d items, token %q, %v", len(page.Items), page.Metadata.NextPageToken, err)
	}
	// Stable order: the same page twice.
	again, _ := c.Services.List(ctx, client.ListServicesOptions{})
	for i := range page.Items {
		if page.Items[i].Metadata.Name != again.Items[i].Metadata.Name {
			t.Fatalf("order not stable at %d", i)
		}
	}
	// Sandbox listings page and filter too (services own sandboxes? builtIn: no).
	for i := 0; i < 25; i++ {
		p := "batch"
		if i%5 == 0 {
			p = "web"
		}
		if _, err := c.Sandboxes.Create(ctx, standaloneSandbox(map[string]string{"purpose": p})); err != nil {
			t.Fatal(err)
		}
	}
	k := 0
	for sb, err := range c.Sandboxes.All(ctx, client.ListSandboxesOptions{Limit: 4, LabelKey: "purpose", LabelValue: "batch"}) {
		if err != nil {
			t.Fatal(err)
		}
		if sb.Metadata.Labels["purpose"] != "batch" {
			t.Fatalf("filter: %+v", sb.Metadata)
		}
		k++
	}
	if k != 20 {
		t.Fatalf("batch sandboxes: %d", k)
	}
}

// TestRedaction: sandbox argv and environment never come back, in create,
// get and list responses of services and sandboxes.
func TestRedaction(t *testing.T) {
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	base := "/v1/tenants/acc"

	st, body := raw(t, srv, http.MethodPost, base+"/services", mustJSON(t, sandboxService("red", nil)))
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	assertNoSecrets(t, "service create", body)
	mustStart(t, c, "red")
	for _, p := range []string{base + "/services/red", base + "/services"} {
		_, b := raw(t, srv, http.MethodGet, p, nil)
		assertNoSecrets(t, "GET "+p, b)
	}
	st, body = raw(t, srv, http.MethodPost, base+"/sandboxes", mustJSON(t, standaloneSandbox(nil)))
	if st != 201 {
		t.Fatalf("sandbox create: %d %s", st, body)
	}
	assertNoSecrets(t, "sandbox create", body)
	var sb api.Sandbox
	if err := json.Unmarshal(body, &sb); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{base + "/sandboxes/" + sb.Metadata.ID, base + "/sandboxes"} {
		_, b := raw(t, srv, http.MethodGet, p, nil)
		assertNoSecrets(t, "GET "+p, b)
	}
	// The client sees the redacted form with counts.
	got, err := c.Sandboxes.Get(ctx, sb.Metadata.ID)
	if err != nil {
		t.Fatal(err)
	}
	pr := got.Spec.Process
	if !pr.Argv.Redacted || pr.Argv.Len() != 3 || !pr.Environment.Redacted || pr.Environment.Len() != 1 || pr.Argv.Values != nil {
		t.Fatalf("sandbox process not redacted: %+v", pr)
	}
	svc, err := c.Services.Get(ctx, "red")
	if err != nil {
		t.Fatal(err)
	}
	sp := svc.Spec.Backend.Sandbox.Process
	if !sp.Argv.Redacted || sp.Argv.Len() != 3 || !sp.Environment.Redacted || sp.Environment.Len() != 1 {
		t.Fatalf("service process not redacted: %+v", sp)
	}
	// The service's owned sandbox is redacted as well.
	_, b := raw(t, srv, http.MethodGet, base+"/sandboxes/"+svc.Status.SandboxID, nil)
	assertNoSecrets(t, "owned sandbox", b)
}

// TestTenantIsolation: objects of one tenant are invisible in another.
func TestTenantIsolation(t *testing.T) {
	srv := testserver.Start(t, testserver.WithTenants("acc", "other"))
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	other := client.InTenant("other")

	mustCreate(t, c, testfixtures.BuiltInService("same", api.ProviderBrowser, map[string]string{"t": "acc"}))
	if _, err := c.Services.Get(ctx, "same", other); !client.IsNotFound(err) {
		t.Fatalf("service visible across tenants: %v", err)
	}
	o := mustCreate(t, c, testfixtures.BuiltInService("same", api.ProviderBrowser, map[string]string{"t": "other"}), other)
	if o.Metadata.TenantID != "other" || o.Metadata.Generation != 1 {
		t.Fatalf("other tenant's service: %+v", o.Metadata)
	}
	sb, err := c.Sandboxes.Create(ctx, standaloneSandbox(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sandboxes.Get(ctx, sb.Metadata.ID, other); !client.IsNotFound(err) {
		t.Fatalf("sandbox visible across tenants: %v", err)
	}
	if err := c.Sandboxes.Delete(ctx, sb.Metadata.ID, client.SandboxDeleteOptions{Force: true}, other); !client.IsNotFound(err) {
		t.Fatalf("sandbox deletable across tenants: %v", err)
	}
	mustStart(t, c, "same")
	ses, err := c.Sessions.Open(ctx, api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "same"}}, Channels: []string{api.ChannelPage}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sessions.Get(ctx, ses.Metadata.ID, other); !client.IsNotFound(err) {
		t.Fatalf("session visible across tenants: %v", err)
	}
	for _, tc := range []struct {
		opt   []client.CallOption
		label string
	}{{nil, "acc"}, {[]client.CallOption{other}, "other"}} {
		l, err := c.Services.List(ctx, client.ListServicesOptions{}, tc.opt...)
		if err != nil || len(l.Items) != 1 || l.Items[0].Metadata.Labels["t"] != tc.label {
			t.Fatalf("list in %s: %+v %v", tc.label, l, err)
		}
		sl, err := c.Sandboxes.List(ctx, client.ListSandboxesOptions{}, tc.opt...)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sl.Items {
			if s.Metadata.TenantID != tc.label {
				t.Fatalf("sandbox of %s listed in %s", s.Metadata.TenantID, tc.label)
			}
		}
	}
	// Stopping acc's service leaves other's alone.
	if _, err := c.Services.Stop(ctx, "same", client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 5e9}); err != nil {
		t.Fatal(err)
	}
	if o2, _ := c.Services.Get(ctx, "same", other); o2.Metadata.ResourceVersion != o.Metadata.ResourceVersion {
		t.Fatalf("other tenant's service changed")
	}
	// An unknown tenant is never served.
	_, err = c.Services.List(ctx, client.ListServicesOptions{}, client.InTenant("nosuch"))
	if code := client.Code(err); code != api.CodeNotFound && code != api.CodePermissionDenied {
		t.Fatalf("unknown tenant: %v", err)
	}
}

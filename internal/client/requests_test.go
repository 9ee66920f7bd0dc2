package client

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// recordingServer answers every request with a stopped object at
// generation 1 (which also decodes as an empty page) and records each
// request as "METHOD path?query body".
func recordingServer(t *testing.T) (*Client, func() []string) {
	t.Helper()
	var (
		mu   sync.Mutex
		reqs []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		line := r.Method + " " + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			line += "?" + r.URL.RawQuery
		}
		if len(body) > 0 {
			line += " " + strings.TrimSpace(string(body))
		}
		mu.Lock()
		reqs = append(reqs, line)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"metadata":{"resourceVersion":"7","generation":1},"status":{"lifecycleState":"stopped","observedGeneration":1}}`)
	}))
	t.Cleanup(srv.Close)
	return newTestClient(t, srv.URL), func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := reqs
		reqs = nil
		return out
	}
}

// TestRequestsOnTheWire pins the HTTP request every Services, Sandboxes and
// Sessions method sends: method, escaped path, query and JSON body.
func TestRequestsOnTheWire(t *testing.T) {
	c, take := recordingServer(t)
	ctx := t.Context()
	const base = "/v1/tenants/acc"
	gen := func(g int64) *int64 { return &g }
	drain := func(seq func(func(api.Service, error) bool)) {
		for _, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name string
		call func() error
		want []string
	}{
		{"Tenants", func() error { _, err := c.Tenants(ctx); return err }, []string{"GET /v1/tenants"}},

		{"Services.Create", func() error {
			_, err := c.Services.Create(ctx, api.CreateServiceRequest{Name: "web"})
			return err
		}, []string{"POST " + base + "/services " + `{"name":"web","backend":{"kind":""}}`}},
		{"Services.Get in tenant", func() error { _, err := c.Services.Get(ctx, "a b", InTenant("other")); return err },
			[]string{"GET /v1/tenants/other/services/a%20b"}},
		{"Services.Get long-poll", func() error {
			_, err := c.Services.Get(ctx, "web", ChangedSince("5", 90*time.Second))
			return err
		}, []string{"GET " + base + "/services/web?changedSince=5&waitMs=60000"}},
		{"Services.List", func() error {
			_, err := c.Services.List(ctx, ListServicesOptions{Limit: 5, PageToken: "p", LabelKey: "k", LabelValue: "v", LifecycleState: "running"})
			return err
		}, []string{"GET " + base + "/services?labelKey=k&labelValue=v&lifecycleState=running&limit=5&pageToken=p"}},
		{"Services.All", func() error {
			drain(c.Services.All(ctx, ListServicesOptions{Limit: 2, LabelKey: "k"}))
			return nil
		}, []string{"GET " + base + "/services?labelKey=k&limit=2"}},
		{"Services.Update", func() error {
			_, err := c.Services.Update(ctx, "web", api.UpdateServiceRequest{IfMatchGeneration: gen(3)})
			return err
		}, []string{"PATCH " + base + "/services/web " + `{"ifMatchGeneration":3}`}},
		{"Services.Delete", func() error {
			return c.Services.Delete(ctx, "web", DeleteOptions{IfMatchGeneration: 4, Force: true})
		}, []string{"DELETE " + base + "/services/web?force=true&ifMatchGeneration=4"}},
		{"Services.Delete plain", func() error { return c.Services.Delete(ctx, "web", DeleteOptions{}) },
			[]string{"DELETE " + base + "/services/web"}},
		{"Services.Start", func() error { _, err := c.Services.Start(ctx, "web", ActionOptions{}); return err },
			[]string{"POST " + base + "/services/web/start"}},
		{"Services.Restart checked", func() error {
			_, err := c.Services.Restart(ctx, "web", ActionOptions{IfMatchGeneration: 2})
			return err
			// Restart reads the service first, to tell after a lost answer
			// whether the restart happened (see TestRestartNotRepeated).
		}, []string{"GET " + base + "/services/web", "POST " + base + "/services/web/restart " + `{"ifMatchGeneration":2}`}},
		{"Services.Stop and wait", func() error {
			_, err := c.Services.Stop(ctx, "web", ActionOptions{WaitUntil: api.WaitStopped})
			return err
		}, []string{"POST " + base + "/services/web/stop", "GET " + base + "/services/web"}},

		{"Sandboxes.Create", func() error {
			_, err := c.Sandboxes.Create(ctx, api.CreateSandboxRequest{})
			return err
		}, []string{"POST " + base + "/sandboxes " + `{"profile":"","spec":{"owner":{"kind":""},"backend":"","root":{"kind":"","source":{"kind":"","reference":""}},"process":{"argv":[],"environment":{}}}}`}},
		{"Sandboxes.Get", func() error { _, err := c.Sandboxes.Get(ctx, "sb-1"); return err },
			[]string{"GET " + base + "/sandboxes/sb-1"}},
		{"Sandboxes.List", func() error {
			_, err := c.Sandboxes.List(ctx, ListSandboxesOptions{Limit: 1, LabelKey: "k", LabelValue: "v", LifecycleState: "stopped", PageToken: "t"})
			return err
		}, []string{"GET " + base + "/sandboxes?labelKey=k&labelValue=v&lifecycleState=stopped&limit=1&pageToken=t"}},
		{"Sandboxes.All", func() error {
			for _, err := range c.Sandboxes.All(ctx, ListSandboxesOptions{PageToken: "t"}) {
				if err != nil {
					return err
				}
			}
			return nil
		}, []string{"GET " + base + "/sandboxes?pageToken=t"}},
		{"Sandboxes.Update", func() error {
			_, err := c.Sandboxes.Update(ctx, "sb-1", api.UpdateSandboxRequest{IfMatchGeneration: gen(1)})
			return err
		}, []string{"PATCH " + base + "/sandboxes/sb-1 " + `{"ifMatchGeneration":1}`}},
		{"Sandboxes.Stop generation-checked", func() error {
			_, err := c.Sandboxes.Stop(ctx, "sb-1", ActionOptions{IfMatchGeneration: 9})
			return err
		}, []string{"POST " + base + "/sandboxes/sb-1/stop " + `{"ifMatchGeneration":9}`}},
		{"Sandboxes.Stop unconditional", func() error {
			_, err := c.Sandboxes.Stop(ctx, "sb-1", ActionOptions{})
			return err
		}, []string{"POST " + base + "/sandboxes/sb-1/stop"}},
		{"Sandboxes.Stop and wait", func() error {
			_, err := c.Sandboxes.Stop(ctx, "sb-1", ActionOptions{WaitUntil: api.WaitStopped})
			return err
		}, []string{"POST " + base + "/sandboxes/sb-1/stop", "GET " + base + "/sandboxes/sb-1"}},
		{"Sandboxes.Delete", func() error {
			return c.Sandboxes.Delete(ctx, "sb-1", SandboxDeleteOptions{Force: true, IfMatchGeneration: 2})
		}, []string{"DELETE " + base + "/sandboxes/sb-1?force=true&ifMatchGeneration=2"}},
		{"Sandboxes.Wait", func() error {
			_, err := c.Sandboxes.Wait(ctx, "sb-1", WaitOptions{Until: api.WaitStopped})
			return err
		}, []string{"GET " + base + "/sandboxes/sb-1"}},

		{"Sessions.Open", func() error { _, err := c.Sessions.Open(ctx, api.OpenSessionRequest{}); return err },
			[]string{"POST " + base + "/sessions " + `{"target":{},"channels":null}`}},
		{"Sessions.Get", func() error { _, err := c.Sessions.Get(ctx, "se-1"); return err },
			[]string{"GET " + base + "/sessions/se-1"}},
		{"Sessions.List", func() error {
			_, err := c.Sessions.List(ctx, ListSessionsOptions{State: "open", Limit: 3, PageToken: "x"})
			return err
		}, []string{"GET " + base + "/sessions?limit=3&pageToken=x&state=open"}},
		{"Sessions.All", func() error {
			for _, err := range c.Sessions.All(ctx, ListSessionsOptions{State: "closed"}) {
				if err != nil {
					return err
				}
			}
			return nil
		}, []string{"GET " + base + "/sessions?state=closed"}},
		{"Sessions.Close", func() error { _, err := c.Sessions.Close(ctx, "se-1", "done"); return err },
			[]string{"POST " + base + "/sessions/se-1/close " + `{"reason":"done"}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			got := take()
			if !slices.Equal(got, tc.want) {
				t.Fatalf("requests:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestCallsRejectedBeforeSending pins the errors of calls that fail before
// any request: a missing identifier and a WaitUntil the action cannot reach.
func TestCallsRejectedBeforeSending(t *testing.T) {
	c, take := recordingServer(t)
	ctx := t.Context()
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"Services.Get", func() error { _, err := c.Services.Get(ctx, " "); return err }, "nimbus: a service name is required"},
		{"Services.Update", func() error { _, err := c.Services.Update(ctx, "", api.UpdateServiceRequest{}); return err }, "nimbus: a service name is required"},
		{"Services.Delete", func() error { return c.Services.Delete(ctx, "", DeleteOptions{}) }, "nimbus: a service name is required"},
		{"Services.Wait", func() error { _, err := c.Services.Wait(ctx, "", WaitOptions{Until: "bogus"}); return err }, "nimbus: a service name is required"},
		{"Services.Stop no name", func() error {
			_, err := c.Services.Stop(ctx, "", ActionOptions{WaitUntil: "bogus"})
			return err
		}, "nimbus: a service name is required"},
		{"Services.Stop until", func() error {
			_, err := c.Services.Stop(ctx, "web", ActionOptions{WaitUntil: api.WaitReady})
			return err
		}, `nimbus: stop of service "web": waitUntil "ready" is not allowed; use one of ["stopped"]`},
		{"Services.Start until", func() error {
			_, err := c.Services.Start(ctx, "web", ActionOptions{WaitUntil: api.WaitStopped})
			return err
		}, `nimbus: start of service "web": waitUntil "stopped" is not allowed; use one of ["ready" "healthy"]`},
		{"Services.Wait until", func() error { _, err := c.Services.Wait(ctx, "web", WaitOptions{Until: "up"}); return err },
			`nimbus: cannot wait for service "web" to become "up": until must be "ready", "healthy" or "stopped"`},
		{"Sandboxes.Get", func() error { _, err := c.Sandboxes.Get(ctx, ""); return err }, "nimbus: a sandbox id is required"},
		{"Sandboxes.Delete", func() error { return c.Sandboxes.Delete(ctx, "", SandboxDeleteOptions{}) }, "nimbus: a sandbox id is required"},
		{"Sandboxes.Stop no id", func() error {
			_, err := c.Sandboxes.Stop(ctx, "", ActionOptions{WaitUntil: "bogus"})
			return err
		}, "nimbus: a sandbox id is required"},
		{"Sandboxes.Stop until", func() error {
			_, err := c.Sandboxes.Stop(ctx, "sb-1", ActionOptions{WaitUntil: api.WaitRunning})
			return err
		}, `nimbus: stop of sandbox "sb-1": waitUntil "running" is not allowed; use "stopped"`},
		{"Sandboxes.Wait until", func() error { _, err := c.Sandboxes.Wait(ctx, "sb-1", WaitOptions{Until: "up"}); return err },
			`nimbus: cannot wait for sandbox "sb-1" to become "up": until must be "running" or "stopped"`},
		{"Sessions.Get", func() error { _, err := c.Sessions.Get(ctx, ""); return err }, "nimbus: a session id is required"},
		{"Sessions.Close", func() error { _, err := c.Sessions.Close(ctx, "", "r"); return err }, "nimbus: a session id is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tc.want)
			}
			if got := take(); len(got) != 0 {
				t.Fatalf("sent %q before rejecting the call", got)
			}
		})
	}
}

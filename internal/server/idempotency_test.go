package server_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func withKey(k string) reqOpt { return withHeader(api.HeaderIdempotencyKey, k) }

func count[T any](t *testing.T, srv *testserver.Server, path string) int {
	t.Helper()
	r := do(t, srv, "GET", path, nil)
	expect(t, r, 200, "")
	var l struct {
		Items []T `json:"items"`
	}
	r.into(t, &l)
	return len(l.Items)
}

func TestIdempotentCreatesReplay(t *testing.T) {
	srv := testserver.Start(t)
	// services.create: the repeat answers the original 201 and body.
	first := do(t, srv, "POST", tp+"/services", builtInService("web", nil), withKey("k-svc"))
	expect(t, first, 201, "")
	again := do(t, srv, "POST", tp+"/services", builtInService("web", nil), withKey("k-svc"))
	expect(t, again, 201, "")
	if string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
	}
	// Without a key the same body is a second create: already exists.
	expect(t, do(t, srv, "POST", tp+"/services", builtInService("web", nil)), 409, api.CodeAlreadyExists)

	// sandboxes.create: one sandbox, the same id.
	sb1 := do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:1"), withKey("k-sbx"))
	sb2 := do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:1"), withKey("k-sbx"))
	expect(t, sb2, 201, "")
	var a, b api.Sandbox
	sb1.into(t, &a)
	sb2.into(t, &b)
	if a.Metadata.ID == "" || a.Metadata.ID != b.Metadata.ID {
		t.Fatalf("ids %q and %q", a.Metadata.ID, b.Metadata.ID)
	}
	if n := count[api.Sandbox](t, srv, tp+"/sandboxes"); n != 1 {
		t.Fatalf("%d sandboxes after a repeated create", n)
	}
	// A body that is equal as JSON but encoded differently is the same body.
	spaced := strings.ReplaceAll(string(mustJSON(t, standaloneSandbox("img:1"))), ",", " ,\n ")
	expect(t, do(t, srv, "POST", tp+"/sandboxes", spaced, withKey("k-sbx")), 201, "")

	// sessions.open.
	do(t, srv, "POST", tp+"/services/web/start", nil)
	waitService(t, srv, "web", readyOn(1))
	open := api.OpenSessionRequest{Target: api.SessionTarget{Service: &api.ServiceRef{Name: "web"}}, Channels: []string{"stdio"}}
	s1 := do(t, srv, "POST", tp+"/sessions", open, withKey("k-ses"))
	s2 := do(t, srv, "POST", tp+"/sessions", open, withKey("k-ses"))
	expect(t, s2, 201, "")
	if string(s1.body) != string(s2.body) {
		t.Fatalf("session replay differs:\n%s\n%s", s1.body, s2.body)
	}
	if n := count[api.Session](t, srv, tp+"/sessions"); n != 1 {
		t.Fatalf("%d sessions after a repeated open", n)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIdempotencyMismatchAndScope(t *testing.T) {
	srv := testserver.Start(t, testserver.WithTenants("acc", "other"))
	expect(t, do(t, srv, "POST", tp+"/services", builtInService("web", nil), withKey("k1")), 201, "")
	// Same key, another body.
	e := expect(t, do(t, srv, "POST", tp+"/services", builtInService("web", map[string]string{"a": "b"}), withKey("k1")),
		422, api.CodeIdempotencyMismatch)
	if !strings.Contains(e.Message, "another body") {
		t.Fatalf("message %q", e.Message)
	}
	// Same key on another operation.
	expect(t, do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:1"), withKey("k1")), 422, api.CodeIdempotencyMismatch)
	// Another credential does not see this credential's key: its create is
	// a create (and the name is taken).
	expect(t, do(t, srv, "POST", tp+"/services", builtInService("web", nil), withKey("k1"),
		noAuth(), withHeader(api.HeaderAPIKey, testserver.APIKey)), 409, api.CodeAlreadyExists)
	// Another tenant neither.
	expect(t, do(t, srv, "POST", "/v1/tenants/other/services", builtInService("web", nil), withKey("k1")), 201, "")
	if n := count[api.Service](t, srv, "/v1/tenants/other/services"); n != 1 {
		t.Fatalf("%d services in tenant other", n)
	}
	// A failed create is not remembered: the key may be used again.
	bad := builtInService("Bad Name", nil)
	expect(t, do(t, srv, "POST", tp+"/services", bad, withKey("k2")), 400, api.CodeInvalid)
	expect(t, do(t, srv, "POST", tp+"/services", builtInService("api", nil), withKey("k2")), 201, "")
}

func TestIdempotencyKeyValidated(t *testing.T) {
	srv := testserver.Start(t)
	for _, k := range []string{"", strings.Repeat("k", api.MaxIdempotencyKeyLen+1), "tab\tkey", "clé"} {
		e := expect(t, do(t, srv, "POST", tp+"/services", builtInService("web", nil), withKey(k)), 400, api.CodeInvalid)
		if len(e.Details.FieldViolations) != 1 || e.Details.FieldViolations[0].Field != api.HeaderIdempotencyKey {
			t.Fatalf("key %q: %+v", k, e)
		}
	}
	expect(t, do(t, srv, "POST", tp+"/services", builtInService("web", nil), withKey(strings.Repeat("k", api.MaxIdempotencyKeyLen))), 201, "")
	if n := count[api.Service](t, srv, tp+"/services"); n != 1 {
		t.Fatalf("%d services", n)
	}
}

func TestIdempotencyKeysSurviveRestart(t *testing.T) {
	srv := testserver.Start(t, testserver.WithDataDir(t.TempDir()))
	first := do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:1"), withKey("k"))
	expect(t, first, 201, "")
	srv.Restart(t)
	again := do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:1"), withKey("k"))
	expect(t, again, 201, "")
	if string(first.body) != string(again.body) {
		t.Fatalf("after a restart the replay differs:\n%s\n%s", first.body, again.body)
	}
	if n := count[api.Sandbox](t, srv, tp+"/sandboxes"); n != 1 {
		t.Fatalf("%d sandboxes", n)
	}
	expect(t, do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:2"), withKey("k")), 422, api.CodeIdempotencyMismatch)
}

// The in-memory store keeps keys for as long as it lives (a server built
// again over the same store replays).
func TestIdempotencyKeysInMemStore(t *testing.T) {
	store := keepOpen{server.NewMemStore()}
	creds := []server.Credential{{Kind: server.CredentialToken, Secret: testserver.Token, Tenants: []string{"*"}}}
	post := func(s *server.Server) (int, string) {
		r := serve(t, s, "POST", tp+"/services", `{"name":"web","backend":{"kind":"builtIn","provider":"loadBalancer"}}`, "k")
		return r.status, r.header.Get("Idempotent-Replayed")
	}
	for i, want := range []string{"", "true"} {
		s, err := server.New(server.Config{Store: store, Credentials: creds, Tenants: []string{"acc"}})
		if err != nil {
			t.Fatal(err)
		}
		if status, replayed := post(s); status != 201 || replayed != want {
			t.Fatalf("server %d: status %d, replayed %q", i, status, replayed)
		}
		s.Drain()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// serve sends method path with body (none if empty) and idempotency key
// (none if empty) to s, over a test HTTP server of its own, authenticated
// with the test token.
func serve(t *testing.T, s *server.Server, method, path, body, key string) resp {
	t.Helper()
	h := httptest.NewServer(s.Handler())
	defer h.Close()
	var rd io.Reader = http.NoBody
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, h.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testserver.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(api.HeaderIdempotencyKey, key)
	}
	return roundTrip(t, h.Client(), req)
}

// keepOpen is a store that outlives the servers built over it.
type keepOpen struct{ server.Store }

func (keepOpen) Close() error { return nil }

func TestIdempotencyKeysExpireAfter24h(t *testing.T) {
	srv := testserver.Start(t, testserver.WithFakeClock())
	sb1 := do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:1"), withKey("k"))
	srv.Clock.Advance(api.IdempotencyKeyTTL - time.Second)
	expect(t, do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:2"), withKey("k")), 422, api.CodeIdempotencyMismatch)
	srv.Clock.Advance(2 * time.Second)
	sb2 := do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:1"), withKey("k"))
	expect(t, sb2, 201, "")
	var a, b api.Sandbox
	sb1.into(t, &a)
	sb2.into(t, &b)
	if a.Metadata.ID == b.Metadata.ID {
		t.Fatalf("an expired key still replays %s", a.Metadata.ID)
	}
}

// Repeats sent while the first is still being served wait for its outcome
// and replay it: one sandbox.
func TestIdempotencyConcurrentRepeats(t *testing.T) {
	srv := testserver.Start(t)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do(t, srv, "POST", tp+"/sandboxes", standaloneSandbox("img:1"), withKey("k"))
			var sb api.Sandbox
			r.into(t, &sb)
			ids[i] = sb.Metadata.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("ids %q", ids)
		}
	}
	if n := count[api.Sandbox](t, srv, tp+"/sandboxes"); n != 1 {
		t.Fatalf("%d sandboxes", n)
	}
}

// crashingStore fails every Put after the first one of kind failAfter (and
// every Put of kind failOn): what a server killed at that moment has left
// on disk.
type crashingStore struct {
	server.Store
	mu        sync.Mutex
	failAfter string
	failOn    string
	crashed   bool
}

func (c *crashingStore) Put(kind, tenant, key string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed || kind == c.failOn {
		return errors.New("crashed")
	}
	if err := c.Store.Put(kind, tenant, key, data); err != nil {
		return err
	}
	if kind == c.failAfter {
		c.crashed = true
	}
	return nil
}

func (c *crashingStore) Close() error { return nil }

// A server killed between storing a keyed create's object and storing its
// answer, or before storing the object: the repeat against the restarted
// server answers the object, or creates it, but never a second one.
func TestIdempotencySurvivesCrashMidCreate(t *testing.T) {
	creds := []server.Credential{{Kind: server.CredentialToken, Secret: testserver.Token, Tenants: []string{"*"}}}
	body := string(mustJSON(t, standaloneSandbox("img:1")))
	post := func(t *testing.T, s *server.Server) (int, api.Sandbox) {
		t.Helper()
		r := serve(t, s, "POST", tp+"/sandboxes", body, "k")
		var sb api.Sandbox
		if r.status == 201 {
			r.into(t, &sb)
		}
		return r.status, sb
	}
	list := func(t *testing.T, s *server.Server) int {
		t.Helper()
		return len(decoded[api.SandboxList](t, serve(t, s, "GET", tp+"/sandboxes", "", ""), 200).Items)
	}
	for _, tc := range []struct {
		name              string
		failAfter, failOn string
	}{
		{"after the object was stored", "sandboxes", ""},
		{"before the object was stored", "", "sandboxes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			disk := server.NewMemStore()
			first, err := server.New(server.Config{Store: &crashingStore{Store: disk, failAfter: tc.failAfter, failOn: tc.failOn},
				Credentials: creds, Tenants: []string{"acc"}})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = post(t, first) // the answer is lost with the crash
			first.Drain()
			_ = first.Close()

			again, err := server.New(server.Config{Store: keepOpen{disk}, Credentials: creds, Tenants: []string{"acc"}})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { again.Drain(); _ = again.Close() }()
			status, sb := post(t, again)
			if status != 201 || sb.Metadata.ID == "" {
				t.Fatalf("repeat after the crash: %d %+v", status, sb)
			}
			if n := list(t, again); n != 1 {
				t.Fatalf("%d sandboxes after a crash and a repeat", n)
			}
			if status2, sb2 := post(t, again); status2 != 201 || sb2.Metadata.ID != sb.Metadata.ID {
				t.Fatalf("second repeat: %d %s, want %s", status2, sb2.Metadata.ID, sb.Metadata.ID)
			}
		})
	}
}

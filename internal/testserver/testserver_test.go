package testserver_test

import (
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func TestStartRestartStop(t *testing.T) {
	srv := testserver.Start(t, testserver.WithDataDir(t.TempDir()), testserver.WithFakeClock(), testserver.WithTenants("one", "two"))
	if srv.Tenant != "one" || srv.Clock == nil || srv.URL == "" {
		t.Fatalf("server: %+v", srv)
	}
	t0 := srv.Clock.Now()
	resp := srv.Do(t, "POST", "/v1/tenants/two/services", []byte(`{"name":"svc","backend":{"kind":"builtIn","provider":"browser"}}`))
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var s api.Service
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if !s.Metadata.CreatedAt.Equal(t0.UTC().Truncate(time.Millisecond)) {
		t.Fatalf("createdAt %v is not the fake clock's %v", s.Metadata.CreatedAt, t0)
	}
	url := srv.URL
	srv.Restart(t)
	if srv.URL != url {
		t.Fatalf("restart moved the server from %s to %s", url, srv.URL)
	}
	resp = srv.Do(t, "GET", "/v1/tenants/two/services/svc", nil)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after restart: %d", resp.StatusCode)
	}
	srv.Stop()
	srv.Stop() // idempotent
}

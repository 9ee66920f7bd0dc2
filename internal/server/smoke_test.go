package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func TestSmokeServiceLifecycle(t *testing.T) {
	srv := testserver.Start(t)
	resp := srv.Do(t, "POST", "/v1/tenants/acc/services", []byte(`{"name":"web","backend":{"kind":"builtIn","provider":"loadBalancer"}}`))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	resp = srv.Do(t, "POST", "/v1/tenants/acc/services/web/start", nil)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var svc api.Service
	json.Unmarshal(b, &svc)
	if svc.Status.LifecycleState != "running" {
		t.Fatalf("start: %s", b)
	}
	_ = strings.Contains
	_ = http.MethodGet
	_ = time.Second
}

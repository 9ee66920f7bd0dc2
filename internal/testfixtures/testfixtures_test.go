package testfixtures_test

import (
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestFixtures: the builders make objects the server accepts and the
// Create* helpers return them running; the stubbed environment keeps the
// machine's settings out.
func TestFixtures(t *testing.T) {
	t.Setenv(client.EnvTenantID, "from-the-machine")
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	if got := c.Settings().TenantID; got != srv.Tenant {
		t.Fatalf("tenant %q, want the server's %q (the environment leaked in)", got, srv.Tenant)
	}
	if s := testfixtures.CreateRunningService(t, c, testfixtures.BuiltInService("lb", api.ProviderLoadBalancer, map[string]string{"team": "a"})); s.Status.LifecycleState != api.ServiceRunning || s.Metadata.Labels["team"] != "a" {
		t.Errorf("built-in service: %+v", s)
	}
	if s := testfixtures.CreateRunningService(t, c, testfixtures.SandboxService("sbx", testfixtures.Image, []string{"/bin/app"}, map[string]string{"K": "v"}, nil)); s.Status.LifecycleState != api.ServiceRunning || s.Spec.Backend.Kind != api.BackendKindSandbox {
		t.Errorf("sandbox service: %+v", s)
	}
	sb := testfixtures.CreateRunningSandbox(t, c, testfixtures.StandaloneSandbox("job", testfixtures.Image, []string{"sleep", "infinity"}, nil, nil))
	if sb.Status.LifecycleState != api.SandboxRunning || sb.Spec.Owner.Kind != api.OwnerKindStandalone || sb.Spec.Owner.DisplayName != "job" {
		t.Errorf("sandbox: %+v", sb)
	}
	if got := testfixtures.Env(map[string]string{"A": "1"})("A"); got != "1" {
		t.Errorf("Env: %q", got)
	}
	if ctx := testfixtures.Context(t, testfixtures.WaitTimeout); ctx.Err() != nil {
		t.Errorf("context: %v", ctx.Err())
	} else if _, ok := ctx.Deadline(); !ok {
		t.Error("context has no deadline")
	}
}

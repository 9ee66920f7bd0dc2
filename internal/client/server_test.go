package client_test

// Tests of the client against the in-process server, through the shared
// fixtures (an external test package: testfixtures imports the client).

import (
	"errors"
	"slices"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestNotFound_TenantIsNotAnObject: against the real server, a call in a
// tenant the server does not have is resource.not_found for the tenant;
// client.IsNotFound (which callers use to drop an object from state or to
// treat a delete as done) is false for it, and true only for a missing
// object.
func TestNotFound_TenantIsNotAnObject(t *testing.T) {
	srv := testserver.Start(t, testserver.WithTenants("acc", "blue"))
	c := testfixtures.ServerClient(t, srv)
	ctx := t.Context()
	ghost := client.InTenant("ghost")

	_, objErr := c.Services.Get(ctx, "nope")
	if !client.IsNotFound(objErr) || client.IsTenantNotFound(objErr) {
		t.Fatalf("missing service: IsNotFound=%v IsTenantNotFound=%v (%v)", client.IsNotFound(objErr), client.IsTenantNotFound(objErr), objErr)
	}
	calls := map[string]error{}
	_, calls["services.get"] = c.Services.Get(ctx, "web", ghost)
	calls["services.delete"] = c.Services.Delete(ctx, "web", client.DeleteOptions{IfMatchGeneration: 1}, ghost)
	_, calls["sandboxes.get"] = c.Sandboxes.Get(ctx, "sbx-0123", ghost)
	calls["sandboxes.delete"] = c.Sandboxes.Delete(ctx, "sbx-0123", client.SandboxDeleteOptions{Force: true}, ghost)
	_, calls["sessions.get"] = c.Sessions.Get(ctx, "ses-0123", ghost)
	_, calls["sessions.close"] = c.Sessions.Close(ctx, "ses-0123", "x", ghost)
	_, calls["services.create"] = c.Services.Create(ctx, testfixtures.BuiltInService("web", api.ProviderLoadBalancer, nil), ghost)
	for name, err := range calls {
		if client.Code(err) != api.CodeNotFound {
			t.Errorf("%s: want resource.not_found, got %v", name, err)
			continue
		}
		if client.IsNotFound(err) {
			t.Errorf("%s: client.IsNotFound is true for a tenant that does not exist: %v", name, err)
		}
		if tenant, ok := client.NotFoundTenant(err); !ok || tenant != "ghost" || !client.IsTenantNotFound(err) {
			t.Errorf("%s: client.NotFoundTenant = %q, %v", name, tenant, ok)
		}
	}

	// client.ExplainTenantNotFound adds the tenants the credential can use.
	err := c.ExplainTenantNotFound(ctx, calls["services.get"])
	var te *client.TenantNotFoundError
	if !errors.As(err, &te) || te.Tenant != "ghost" || te.ListErr != nil || !slices.Equal(te.Visible, []string{"acc", "blue"}) ||
		te.Endpoint != srv.URL {
		t.Fatalf("explained: %#v", te)
	}
	if !client.IsTenantNotFound(err) || client.IsNotFound(err) || client.Code(err) != api.CodeNotFound || err.Error() != calls["services.get"].Error() {
		t.Fatalf("the explained error must keep the original's code and text: %v", err)
	}
	var twice *client.TenantNotFoundError
	if !errors.As(c.ExplainTenantNotFound(ctx, err), &twice) || errors.As(twice.Err, new(*client.TenantNotFoundError)) {
		t.Fatalf("explaining twice wrapped again")
	}
	if c.ExplainTenantNotFound(ctx, nil) != nil {
		t.Fatal("client.ExplainTenantNotFound(nil) is not nil")
	}
	for _, other := range []error{objErr, errors.New("x")} {
		if got := c.ExplainTenantNotFound(ctx, other); errors.As(got, new(*client.TenantNotFoundError)) || got.Error() != other.Error() {
			t.Fatalf("client.ExplainTenantNotFound(%v) = %v, want it unchanged", other, got)
		}
	}
}

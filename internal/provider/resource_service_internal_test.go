package provider

import (
	"errors"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func sandboxServiceModel(argv types.List, env types.Map) serviceModel {
	return serviceModel{Name: types.StringValue("web"), Sandbox: &serviceSandboxModel{
		Backend: types.StringValue("container"), Image: types.StringValue("docker.io/library/alpine:3"),
		Argv: argv, Environment: env, EnvironmentWO: types.MapNull(types.StringType), EnvironmentWOVersion: types.Int64Null(),
	}}
}

func externalServiceModel(url, token string) serviceModel {
	return serviceModel{Name: types.StringValue("web"), External: &serviceExternalModel{
		URL: types.StringValue(url), HealthPath: types.StringNull(),
		Auth: &serviceExternalAuthModel{Kind: types.StringValue("bearer"), Token: types.StringValue(token),
			TokenWO: types.StringNull(), TokenWOVersion: types.Int64Null()},
	}}
}

func strList(s ...string) types.List {
	vs := make([]attr.Value, len(s))
	for i, x := range s {
		vs[i] = types.StringValue(x)
	}
	return types.ListValueMust(types.StringType, vs)
}

func strMap(kv ...string) types.Map {
	vs := map[string]attr.Value{}
	for i := 0; i+1 < len(kv); i += 2 {
		vs[kv[i]] = types.StringValue(kv[i+1])
	}
	return types.MapValueMust(types.StringType, vs)
}

// TestSameBackend: Update re-sends the backend exactly when a launch input,
// the image, the URL or the token changed, or when the state does not know a
// launch input the plan sets.
func TestSameBackend(t *testing.T) {
	nullList, nullMap := types.ListNull(types.StringType), types.MapNull(types.StringType)
	for name, tc := range map[string]struct {
		plan, state serviceModel
		same        bool
	}{
		"same sandbox":        {sandboxServiceModel(strList("sleep", "1"), strMap("A", "1")), sandboxServiceModel(strList("sleep", "1"), strMap("A", "1")), true},
		"unset launch inputs": {sandboxServiceModel(nullList, nullMap), sandboxServiceModel(nullList, nullMap), true},
		"argv changed":        {sandboxServiceModel(strList("sleep", "2"), nullMap), sandboxServiceModel(strList("sleep", "1"), nullMap), false},
		"environment changed": {sandboxServiceModel(nullList, strMap("A", "2")), sandboxServiceModel(nullList, strMap("A", "1")), false},
		// Null in state: imported, or changed outside Terraform (the
		// server's value count no longer matched).
		"argv unknown to the state":        {sandboxServiceModel(strList(), nullMap), sandboxServiceModel(nullList, nullMap), false},
		"environment unknown to the state": {sandboxServiceModel(nullList, strMap()), sandboxServiceModel(nullList, nullMap), false},
		"same external":                    {externalServiceModel("https://x", "t"), externalServiceModel("https://x", "t"), true},
		"token changed":                    {externalServiceModel("https://x", "u"), externalServiceModel("https://x", "t"), false},
		"url changed":                      {externalServiceModel("https://y", "t"), externalServiceModel("https://x", "t"), false},
	} {
		if got := sameBackend(t.Context(), tc.plan, tc.state); got != tc.same {
			t.Errorf("%s: sameBackend = %v, want %v", name, got, tc.same)
		}
	}
}

// TestServiceStep: a lifecycle call that fails is reported and the service
// re-read; when the re-read fails too, the service as last known is kept
// (so Create still saves the service it created).
func TestServiceStep(t *testing.T) {
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := t.Context()
	created, err := c.Services.Create(ctx, testfixtures.BuiltInService("web", api.BuiltInProviders[0], nil))
	if err != nil {
		t.Fatal(err)
	}
	opt := client.InTenant(srv.Tenant)
	r := &ServiceResource{}
	cur := &api.Service{Metadata: api.ObjectMeta{Name: "as-last-known"}}
	answered := &api.Service{Metadata: api.ObjectMeta{Name: "answered"}}
	failed := errors.New("start failed")
	for _, tc := range []struct {
		name, service string
		svc           *api.Service
		err           error
		want          string
		ok            bool
	}{
		{"answer", "web", answered, nil, "answered", true},
		{"no answer (wait none)", "web", nil, nil, "as-last-known", true},
		{"error, re-read", "web", nil, failed, created.Metadata.Name, false},
		{"error, re-read fails", "ghost", nil, failed, "as-last-known", false},
	} {
		var diags diag.Diagnostics
		got, ok := r.step(ctx, c, tc.service, opt, cur, &diags, "Could not start service", func() (*api.Service, error) { return tc.svc, tc.err })
		if got == nil || got.Metadata.Name != tc.want || ok != tc.ok {
			t.Errorf("%s: got %v, %v; want %s, %v", tc.name, got, ok, tc.want, tc.ok)
		}
		if diags.HasError() == tc.ok || (!tc.ok && diags[0].Summary() != "Could not start service") {
			t.Errorf("%s: diagnostics %v", tc.name, diags)
		}
	}
}

// Package testfixtures holds the fixtures the provider, client (external
// tests) and e2e tests share, on top of the in-process server of package
// testserver: a client with a stubbed environment, bounded contexts, and
// builders of the services and sandboxes the tests create.
//
//	srv := testserver.Start(t)
//	c := testfixtures.ServerClient(t, srv)             // no NIMBUS_* variable, no credential file leaks in
//	ctx := testfixtures.Context(t, 10*time.Second)     // a wait that never ends fails at 10s, not at go test's timeout
//	svc := testfixtures.CreateRunningService(t, c, testfixtures.BuiltInService("web", api.ProviderLoadBalancer, nil))
//	sb := testfixtures.CreateRunningSandbox(t, c, testfixtures.StandaloneSandbox("job", testfixtures.Image, nil, nil, nil))
//
// Only tests import it. The client's own (package client) tests cannot,
// since it imports the client; they use package testserver directly.
package testfixtures

import (
	"context"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// Image is the container image of the fixtures' sandboxes (the simulated
// runtime never pulls it).
const Image = "example/app:1"

// WaitTimeout bounds every wait of the helpers here.
const WaitTimeout = 30 * time.Second

// NoEnv is an empty environment for client.Config.Getenv.
func NoEnv(string) string { return "" }

// Env is a stubbed environment holding exactly vars, for
// client.Config.Getenv.
func Env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// Client returns a client for cfg with a stubbed environment: Getenv
// defaults to NoEnv and HomeDir to a fresh directory without a credential
// file, so the test machine's settings never leak in. It fails the test if
// the configuration is rejected.
func Client(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	if cfg.Getenv == nil {
		cfg.Getenv = NoEnv
	}
	if cfg.HomeDir == "" {
		cfg.HomeDir = t.TempDir()
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return c
}

// ServerClient returns a client for srv: its default tenant and bearer
// token, in a stubbed environment (see Client); mods adjust the
// configuration first.
func ServerClient(t testing.TB, srv *testserver.Server, mods ...func(*client.Config)) *client.Client {
	t.Helper()
	cfg := client.Config{Endpoint: srv.URL, TenantID: srv.Tenant, Token: srv.Token}
	for _, m := range mods {
		m(&cfg)
	}
	return Client(t, cfg)
}

// Context returns the test's context (cancelled when the test ends) bounded
// by d, so that a wait which never ends fails with a deadline error after
// d instead of hanging until go test's global timeout.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// SandboxSpec is a container sandbox of owner running image with argv and
// environment (nil for none).
func SandboxSpec(owner api.Owner, image string, argv []string, env map[string]string) api.SandboxSpec {
	return api.SandboxSpec{
		Owner:   owner,
		Backend: api.RuntimeContainer,
		Root:    api.Root{Kind: api.RootKindOCIImage, Source: api.RootSource{Kind: api.SourceKindReference, Reference: image}},
		Process: api.Process{Argv: api.RedactableList{Values: argv}, Environment: api.RedactableMap{Values: env}},
	}
}

// SandboxBackend is the backend of a sandbox-backed service named service
// (see SandboxSpec).
func SandboxBackend(service, image string, argv []string, env map[string]string) api.Backend {
	sb := SandboxSpec(api.Owner{Kind: api.OwnerKindService, ServiceName: service}, image, argv, env)
	return api.Backend{Kind: api.BackendKindSandbox, Sandbox: &sb}
}

// SandboxService is a sandbox-backed service (see SandboxSpec).
func SandboxService(name, image string, argv []string, env, labels map[string]string) api.CreateServiceRequest {
	return api.CreateServiceRequest{Name: name, Backend: SandboxBackend(name, image, argv, env), Labels: labels}
}

// BuiltInService is a service with the built-in backend provider (one of
// the api.Provider* values).
func BuiltInService(name, provider string, labels map[string]string) api.CreateServiceRequest {
	return api.CreateServiceRequest{Name: name, Backend: api.Backend{Kind: api.BackendKindBuiltIn, Provider: provider}, Labels: labels}
}

// StandaloneSandbox is a worker sandbox with no owning service (see
// SandboxSpec).
func StandaloneSandbox(displayName, image string, argv []string, env, labels map[string]string) api.CreateSandboxRequest {
	return api.CreateSandboxRequest{
		Profile: api.ProfileWorker,
		Spec:    SandboxSpec(api.Owner{Kind: api.OwnerKindStandalone, DisplayName: displayName}, image, argv, env),
		Labels:  labels,
	}
}

// CreateRunningService creates the service, starts it and waits until it
// is ready (at most WaitTimeout).
func CreateRunningService(t testing.TB, c *client.Client, req api.CreateServiceRequest) *api.Service {
	t.Helper()
	ctx := Context(t, WaitTimeout)
	if _, err := c.Services.Create(ctx, req); err != nil {
		t.Fatalf("create service %s: %v", req.Name, err)
	}
	s, err := c.Services.Start(ctx, req.Name, client.ActionOptions{WaitUntil: api.WaitReady, Timeout: WaitTimeout})
	if err != nil {
		t.Fatalf("start service %s: %v", req.Name, err)
	}
	return s
}

// CreateRunningSandbox creates the sandbox and waits until it runs (at
// most WaitTimeout).
func CreateRunningSandbox(t testing.TB, c *client.Client, req api.CreateSandboxRequest) *api.Sandbox {
	t.Helper()
	ctx := Context(t, WaitTimeout)
	sb, err := c.Sandboxes.Create(ctx, req)
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	id := sb.Metadata.ID
	sb, err = c.Sandboxes.Wait(ctx, id, client.WaitOptions{Until: api.WaitRunning, Timeout: WaitTimeout})
	if err != nil {
		t.Fatalf("wait for sandbox %s: %v", id, err)
	}
	return sb
}

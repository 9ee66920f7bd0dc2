// Package runtimes runs sandboxes for the Nimbus server (the simulated and
// the process runtime). External services are health-checked by package
// health. The server's supervisor owns all state; a runtime only
// launches, reports and stops.
package runtimes

import (
	"context"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// Spec is what a runtime launches: the unredacted sandbox spec.
type Spec struct {
	// ID is the sandbox id (sbx-…); TenantID its tenant.
	ID       string
	TenantID string
	Profile  string
	Sandbox  api.SandboxSpec
}

// Event is a state change a runtime reports for one instance.
type Event struct {
	// State is api.SandboxRunning, api.SandboxFailed or api.SandboxStopped.
	State     string
	Endpoints []api.Endpoint
	// Message explains the state (never contains argv or environment values).
	Message  string
	ExitCode *int
}

// Runtime launches sandboxes.
type Runtime interface {
	// Name is "simulated" or "process".
	Name() string
	// Start launches spec and returns at once. The runtime calls report for
	// every later state change of the instance (running, then failed or
	// stopped); report must not block for long. Start returns an error only
	// when the launch cannot even begin.
	Start(ctx context.Context, spec Spec, report func(Event)) (Instance, error)
}

// Instance is one launched sandbox.
type Instance interface {
	// Stop stops the instance and blocks until it has stopped or ctx ends.
	// After Stop returns nil, report has been called with api.SandboxStopped
	// (unless the instance had already failed or stopped).
	Stop(ctx context.Context) error
}

// Closer is implemented by runtimes that can end all their instances at
// once, as the server does on shutdown. Close reports nothing: the server
// keeps its records of what was running and launches those sandboxes again
// when it next starts. Both Simulated and Process implement it.
type Closer interface {
	Close(ctx context.Context) error
}

var (
	_ Closer = (*Simulated)(nil)
	_ Closer = (*Process)(nil)
)

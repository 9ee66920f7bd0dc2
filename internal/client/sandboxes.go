package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// SandboxesClient manages sandboxes: isolated execution environments,
// standalone or owned by a service.
type SandboxesClient struct{ r collection }

// ListSandboxesOptions filters and pages a sandbox listing.
type ListSandboxesOptions struct {
	Limit                int
	PageToken            string
	LabelKey, LabelValue string
	LifecycleState       string
}

// query is the listing's query for the page at pageToken.
func (o ListSandboxesOptions) query(pageToken string) url.Values {
	return labelledListQuery(o.Limit, pageToken, o.LabelKey, o.LabelValue, o.LifecycleState)
}

// SandboxDeleteOptions are the options of Sandboxes.Delete.
type SandboxDeleteOptions struct {
	// Force deletes a running sandbox (else op.conflict).
	Force bool
	// IfMatchGeneration, if non-zero, makes the delete generation-checked.
	IfMatchGeneration int64
}

// sandboxWaits is how a wait reads sandboxes.
var sandboxWaits = waitKind[api.Sandbox]{
	checker:         sandboxChecker,
	describe:        describeSandbox,
	resourceVersion: func(s *api.Sandbox) string { return s.Metadata.ResourceVersion },
}

// Create creates a standalone sandbox; it starts at once.
func (s *SandboxesClient) Create(ctx context.Context, req api.CreateSandboxRequest, opts ...CallOption) (*api.Sandbox, error) {
	return create[api.Sandbox](ctx, s.r, req, opts)
}

// Get reads a sandbox. With ChangedSince it long-polls.
func (s *SandboxesClient) Get(ctx context.Context, id string, opts ...CallOption) (*api.Sandbox, error) {
	return getObject[api.Sandbox](ctx, s.r, id, opts)
}

// List reads one page of sandboxes.
func (s *SandboxesClient) List(ctx context.Context, lo ListSandboxesOptions, opts ...CallOption) (*api.SandboxList, error) {
	l, err := listPage[api.Sandbox](ctx, s.r, lo.query(lo.PageToken), opts)
	return (*api.SandboxList)(l), err
}

// All iterates over every sandbox matching lo, following nextPageToken.
func (s *SandboxesClient) All(ctx context.Context, lo ListSandboxesOptions, opts ...CallOption) iter.Seq2[api.Sandbox, error] {
	return allPages[api.Sandbox](ctx, s.r, lo.PageToken, lo.query, opts)
}

// Update replaces a sandbox's labels (generation-checked; IfMatchGeneration
// is required by the server).
func (s *SandboxesClient) Update(ctx context.Context, id string, req api.UpdateSandboxRequest, opts ...CallOption) (*api.Sandbox, error) {
	return callObject[api.Sandbox](ctx, s.r, http.MethodPatch, id, "", req, opts)
}

// Stop stops a sandbox and, with WaitUntil "stopped", waits for it. A
// non-zero IfMatchGeneration makes the stop generation-checked (the body
// {"ifMatchGeneration": N}, as for services); without it no body is sent.
func (s *SandboxesClient) Stop(ctx context.Context, id string, ao ActionOptions, opts ...CallOption) (*api.Sandbox, error) {
	reject := func(until string) error {
		if until == api.WaitStopped {
			return nil
		}
		return errorf("stop of sandbox %q: waitUntil %q is not allowed; use %q", id, until, api.WaitStopped)
	}
	var body any
	if ao.IfMatchGeneration != 0 {
		g := ao.IfMatchGeneration
		body = api.ServiceActionRequest{IfMatchGeneration: &g}
	}
	return act(ctx, s.r, id, "stop", body, ao, reject, s.Wait, opts)
}

// Delete deletes a sandbox. A running sandbox needs Force (else op.conflict).
func (s *SandboxesClient) Delete(ctx context.Context, id string, do SandboxDeleteOptions, opts ...CallOption) error {
	return deleteObject(ctx, s.r, id, do.IfMatchGeneration, do.Force, opts)
}

// Wait waits until the sandbox is "running" or "stopped". A failed state
// ends the wait at once with a *WaitError (Failed).
func (s *SandboxesClient) Wait(ctx context.Context, id string, wo WaitOptions, opts ...CallOption) (*api.Sandbox, error) {
	return waitObject(ctx, s.r, id, wo, sandboxWaits, opts)
}

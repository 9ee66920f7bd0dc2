package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// SandboxesClient manages sandboxes: isolated execution environments,
// standalone or owned by a service.
type SandboxesClient struct{ c *Client }

// ListSandboxesOptions filters and pages a sandbox listing.
type ListSandboxesOptions struct {
	Limit                int
	PageToken            string
	LabelKey, LabelValue string
	LifecycleState       string
}

func (o ListSandboxesOptions) query() url.Values {
	q := url.Values{}
	setInt(q, "limit", o.Limit)
	setStr(q, "pageToken", o.PageToken)
	setStr(q, "labelKey", o.LabelKey)
	setStr(q, "labelValue", o.LabelValue)
	setStr(q, "lifecycleState", o.LifecycleState)
	return q
}

// SandboxDeleteOptions are the options of Sandboxes.Delete.
type SandboxDeleteOptions struct {
	// Force deletes a running sandbox (else op.conflict).
	Force bool
	// IfMatchGeneration, if non-zero, makes the delete generation-checked.
	IfMatchGeneration int64
}

func (s *SandboxesClient) path(id string, o callOptions) (string, error) {
	base, err := s.c.tenantPath(o)
	if err != nil {
		return "", err
	}
	if id == "" {
		return base + "/sandboxes", nil
	}
	return base + "/sandboxes/" + escape(id), nil
}

// Create creates a standalone sandbox; it starts at once.
func (s *SandboxesClient) Create(ctx context.Context, req api.CreateSandboxRequest, opts ...CallOption) (*api.Sandbox, error) {
	p, err := s.path("", applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.Sandbox
	if err := s.c.do(ctx, http.MethodPost, p, nil, req, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get reads a sandbox. With ChangedSince it long-polls.
func (s *SandboxesClient) Get(ctx context.Context, id string, opts ...CallOption) (*api.Sandbox, error) {
	if err := requireID("sandbox", "id", id); err != nil {
		return nil, err
	}
	o := applyOptions(opts)
	p, err := s.path(id, o)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	wait := longPollQuery(q, o)
	var out api.Sandbox
	if err := s.c.do(ctx, http.MethodGet, p, q, nil, &out, wait); err != nil {
		return nil, err
	}
	return &out, nil
}

// List reads one page of sandboxes.
func (s *SandboxesClient) List(ctx context.Context, lo ListSandboxesOptions, opts ...CallOption) (*api.SandboxList, error) {
	p, err := s.path("", applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.SandboxList
	if err := s.c.do(ctx, http.MethodGet, p, lo.query(), nil, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

// All iterates over every sandbox matching lo, following nextPageToken.
func (s *SandboxesClient) All(ctx context.Context, lo ListSandboxesOptions, opts ...CallOption) iter.Seq2[api.Sandbox, error] {
	return paginate(lo.PageToken, func(token string) ([]api.Sandbox, string, error) {
		lo.PageToken = token
		l, err := s.List(ctx, lo, opts...)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Metadata.NextPageToken, nil
	})
}

// Update replaces a sandbox's labels (generation-checked; IfMatchGeneration
// is required by the server).
func (s *SandboxesClient) Update(ctx context.Context, id string, req api.UpdateSandboxRequest, opts ...CallOption) (*api.Sandbox, error) {
	if err := requireID("sandbox", "id", id); err != nil {
		return nil, err
	}
	p, err := s.path(id, applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.Sandbox
	if err := s.c.do(ctx, http.MethodPatch, p, nil, req, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

// Stop stops a sandbox and, with WaitUntil "stopped", waits for it.
func (s *SandboxesClient) Stop(ctx context.Context, id string, ao ActionOptions, opts ...CallOption) (*api.Sandbox, error) {
	if err := requireID("sandbox", "id", id); err != nil {
		return nil, err
	}
	if ao.WaitUntil != "" && ao.WaitUntil != api.WaitStopped {
		return nil, errorf("stop of sandbox %q: waitUntil %q is not allowed; use %q", id, ao.WaitUntil, api.WaitStopped)
	}
	p, err := s.path(id, applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.Sandbox
	if err := s.c.do(ctx, http.MethodPost, p+"/stop", nil, nil, &out, 0); err != nil {
		return nil, err
	}
	if ao.WaitUntil == "" {
		return &out, nil
	}
	return s.Wait(ctx, id, WaitOptions{Until: ao.WaitUntil, Timeout: ao.Timeout, Interval: ao.Interval}, opts...)
}

// Delete deletes a sandbox. A running sandbox needs Force (else op.conflict).
func (s *SandboxesClient) Delete(ctx context.Context, id string, do SandboxDeleteOptions, opts ...CallOption) error {
	if err := requireID("sandbox", "id", id); err != nil {
		return err
	}
	p, err := s.path(id, applyOptions(opts))
	if err != nil {
		return err
	}
	q := url.Values{}
	if do.IfMatchGeneration != 0 {
		q.Set("ifMatchGeneration", strconv.FormatInt(do.IfMatchGeneration, 10))
	}
	if do.Force {
		q.Set("force", "true")
	}
	return s.c.do(ctx, http.MethodDelete, p, q, nil, nil, 0)
}

// Wait waits until the sandbox is "running" or "stopped". A failed state
// ends the wait at once with a *WaitError (Failed).
func (s *SandboxesClient) Wait(ctx context.Context, id string, wo WaitOptions, opts ...CallOption) (*api.Sandbox, error) {
	if err := requireID("sandbox", "id", id); err != nil {
		return nil, err
	}
	check, err := sandboxChecker(id, wo.Until)
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context, changedSince string, wait time.Duration) (*api.Sandbox, string, error) {
		o := append(append([]CallOption{}, opts...), ChangedSince(changedSince, wait))
		sb, err := s.Get(ctx, id, o...)
		if err != nil {
			return nil, "", err
		}
		return sb, sb.Metadata.ResourceVersion, nil
	}
	return waitFor(ctx, get, check, waitParams[*api.Sandbox]{
		kind: "sandbox", name: id, until: wo.Until, timeout: wo.Timeout, interval: wo.Interval, describe: describeSandbox,
	})
}

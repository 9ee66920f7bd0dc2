package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// ServicesClient manages services: named workloads the server runs and
// supervises.
type ServicesClient struct{ c *Client }

// ListServicesOptions filters and pages a service listing.
type ListServicesOptions struct {
	// Limit is the page size, 1…1000 (0 = server default 100).
	Limit int
	// PageToken continues a listing (from Metadata.NextPageToken).
	PageToken string
	// LabelKey / LabelValue keep services with that label (LabelValue ""
	// with a LabelKey matches any value).
	LabelKey, LabelValue string
	// LifecycleState keeps services in that state.
	LifecycleState string
}

func (o ListServicesOptions) query() url.Values {
	q := url.Values{}
	setInt(q, "limit", o.Limit)
	setStr(q, "pageToken", o.PageToken)
	setStr(q, "labelKey", o.LabelKey)
	setStr(q, "labelValue", o.LabelValue)
	setStr(q, "lifecycleState", o.LifecycleState)
	return q
}

// DeleteOptions are the options of Services.Delete.
type DeleteOptions struct {
	// IfMatchGeneration is the generation last read; the server requires it
	// (0 sends none and the server answers op.precondition_required).
	IfMatchGeneration int64
	// Force tears down a running service.
	Force bool
}

// ActionOptions are the options of Start, Stop and Restart.
type ActionOptions struct {
	// WaitUntil, if set, waits after the action: "ready" or "healthy" for
	// start/restart, "stopped" for stop.
	WaitUntil string
	// Timeout and Interval control the wait (see WaitOptions).
	Timeout, Interval time.Duration
	// IfMatchGeneration, if non-zero, makes the action generation-checked.
	IfMatchGeneration int64
}

func (s *ServicesClient) path(name string, o callOptions) (string, error) {
	base, err := s.c.tenantPath(o)
	if err != nil {
		return "", err
	}
	if name == "" {
		return base + "/services", nil
	}
	return base + "/services/" + escape(name), nil
}

// Create creates a service (201). A taken name fails with
// resource.already_exists.
func (s *ServicesClient) Create(ctx context.Context, req api.CreateServiceRequest, opts ...CallOption) (*api.Service, error) {
	p, err := s.path("", applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.Service
	if err := s.c.do(ctx, http.MethodPost, p, nil, req, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get reads a service. With ChangedSince it long-polls.
func (s *ServicesClient) Get(ctx context.Context, name string, opts ...CallOption) (*api.Service, error) {
	if err := requireID("service", "name", name); err != nil {
		return nil, err
	}
	o := applyOptions(opts)
	p, err := s.path(name, o)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	wait := longPollQuery(q, o)
	var out api.Service
	if err := s.c.do(ctx, http.MethodGet, p, q, nil, &out, wait); err != nil {
		return nil, err
	}
	return &out, nil
}

// List reads one page of services.
func (s *ServicesClient) List(ctx context.Context, lo ListServicesOptions, opts ...CallOption) (*api.ServiceList, error) {
	p, err := s.path("", applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.ServiceList
	if err := s.c.do(ctx, http.MethodGet, p, lo.query(), nil, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

// All iterates over every service matching lo, following nextPageToken.
// An error is yielded once, as the last element.
func (s *ServicesClient) All(ctx context.Context, lo ListServicesOptions, opts ...CallOption) iter.Seq2[api.Service, error] {
	return paginate(lo.PageToken, func(token string) ([]api.Service, string, error) {
		lo.PageToken = token
		l, err := s.List(ctx, lo, opts...)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Metadata.NextPageToken, nil
	})
}

// Update patches a service: present fields replace the stored value whole.
// IfMatchGeneration is required by the server.
func (s *ServicesClient) Update(ctx context.Context, name string, req api.UpdateServiceRequest, opts ...CallOption) (*api.Service, error) {
	if err := requireID("service", "name", name); err != nil {
		return nil, err
	}
	p, err := s.path(name, applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.Service
	if err := s.c.do(ctx, http.MethodPatch, p, nil, req, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes a service. A running service needs Force (else op.conflict).
func (s *ServicesClient) Delete(ctx context.Context, name string, do DeleteOptions, opts ...CallOption) error {
	if err := requireID("service", "name", name); err != nil {
		return err
	}
	p, err := s.path(name, applyOptions(opts))
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

// Start starts a service (a no-op for a running one) and, with WaitUntil
// "ready" or "healthy", waits for it.
func (s *ServicesClient) Start(ctx context.Context, name string, ao ActionOptions, opts ...CallOption) (*api.Service, error) {
	return s.action(ctx, name, "start", ao, []string{api.WaitReady, api.WaitHealthy}, opts)
}

// Stop stops a service (a no-op for a stopped one) and, with WaitUntil
// "stopped", waits for it.
func (s *ServicesClient) Stop(ctx context.Context, name string, ao ActionOptions, opts ...CallOption) (*api.Service, error) {
	return s.action(ctx, name, "stop", ao, []string{api.WaitStopped}, opts)
}

// Restart stops and starts a service and, with WaitUntil "ready" or
// "healthy", waits for it.
func (s *ServicesClient) Restart(ctx context.Context, name string, ao ActionOptions, opts ...CallOption) (*api.Service, error) {
	return s.action(ctx, name, "restart", ao, []string{api.WaitReady, api.WaitHealthy}, opts)
}

func (s *ServicesClient) action(ctx context.Context, name, verb string, ao ActionOptions, allowed []string, opts []CallOption) (*api.Service, error) {
	if err := requireID("service", "name", name); err != nil {
		return nil, err
	}
	if ao.WaitUntil != "" && !contains(allowed, ao.WaitUntil) {
		return nil, fmt.Errorf("nimbus: %s of service %q: waitUntil %q is not allowed; use one of %q", verb, name, ao.WaitUntil, allowed)
	}
	p, err := s.path(name, applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var body any
	if ao.IfMatchGeneration != 0 {
		g := ao.IfMatchGeneration
		body = api.ServiceActionRequest{IfMatchGeneration: &g}
	}
	var out api.Service
	if err := s.c.do(ctx, http.MethodPost, p+"/"+verb, nil, body, &out, 0); err != nil {
		return nil, err
	}
	if ao.WaitUntil == "" {
		return &out, nil
	}
	return s.Wait(ctx, name, WaitOptions{Until: ao.WaitUntil, Timeout: ao.Timeout, Interval: ao.Interval}, opts...)
}

// Wait waits until the service is "ready" (running ∧ readiness ready ∧
// observedGeneration ≥ generation), "healthy" (ready ∧ health healthy) or
// "stopped". A failed state ends the wait at once with a *WaitError
// (Failed); a passed deadline returns a *WaitError carrying the last
// observed status. It long-polls, falling back to polling at the interval.
func (s *ServicesClient) Wait(ctx context.Context, name string, wo WaitOptions, opts ...CallOption) (*api.Service, error) {
	if err := requireID("service", "name", name); err != nil {
		return nil, err
	}
	check, err := serviceChecker(name, wo.Until)
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context, changedSince string, wait time.Duration) (*api.Service, string, error) {
		o := append(append([]CallOption{}, opts...), ChangedSince(changedSince, wait))
		svc, err := s.Get(ctx, name, o...)
		if err != nil {
			return nil, "", err
		}
		return svc, svc.Metadata.ResourceVersion, nil
	}
	return waitFor(ctx, get, check, waitParams[*api.Service]{
		kind: "service", name: name, until: wo.Until, timeout: wo.Timeout, interval: wo.Interval, describe: describeService,
	})
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// paginate yields every item of every page, starting at token.
func paginate[T any](token string, page func(token string) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		seen := map[string]bool{}
		for {
			items, next, err := page(token)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if seen[next] {
				var zero T
				yield(zero, fmt.Errorf("nimbus: the server returned page token %q twice; stopping to avoid an endless listing", next))
				return
			}
			seen[next] = true
			token = next
		}
	}
}

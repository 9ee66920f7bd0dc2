package client

import (
	"context"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// ServicesClient manages services: named workloads the server runs and
// supervises.
type ServicesClient struct{ r collection }

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

// query is the listing's query for the page at pageToken.
func (o ListServicesOptions) query(pageToken string) url.Values {
	return labelledListQuery(o.Limit, pageToken, o.LabelKey, o.LabelValue, o.LifecycleState)
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
	// Progress, if set, is told the object's status while waiting (see
	// WaitOptions.Progress).
	Progress func(summary string)
}

// serviceWaits is how a wait reads services.
var serviceWaits = waitKind[api.Service]{
	checker:         serviceChecker,
	describe:        describeService,
	resourceVersion: func(s *api.Service) string { return s.Metadata.ResourceVersion },
}

// Create creates a service (201). A taken name fails with
// resource.already_exists.
func (s *ServicesClient) Create(ctx context.Context, req api.CreateServiceRequest, opts ...CallOption) (*api.Service, error) {
	return create[api.Service](ctx, s.r, req, opts)
}

// Get reads a service. With ChangedSince it long-polls.
func (s *ServicesClient) Get(ctx context.Context, name string, opts ...CallOption) (*api.Service, error) {
	return getObject[api.Service](ctx, s.r, name, opts)
}

// List reads one page of services.
func (s *ServicesClient) List(ctx context.Context, lo ListServicesOptions, opts ...CallOption) (*api.ServiceList, error) {
	l, err := listPage[api.Service](ctx, s.r, lo.query(lo.PageToken), opts)
	return (*api.ServiceList)(l), err
}

// All iterates over every service matching lo, following nextPageToken.
// An error is yielded once, as the last element.
func (s *ServicesClient) All(ctx context.Context, lo ListServicesOptions, opts ...CallOption) iter.Seq2[api.Service, error] {
	return allPages[api.Service](ctx, s.r, lo.PageToken, lo.query, opts)
}

// Update patches a service: present fields replace the stored value whole.
// IfMatchGeneration is required by the server.
//
// The PATCH is generation-checked, so it is sent again after an attempt
// that may have reached the server; when that attempt had landed, the
// repeat fails with op.precondition_failed, and the service is re-read: at
// the next generation and showing the requested labels and backend, it is
// returned as the update's result.
func (s *ServicesClient) Update(ctx context.Context, name string, req api.UpdateServiceRequest, opts ...CallOption) (*api.Service, error) {
	matches := func(cur *api.Service) bool {
		if req.Labels != nil && !maps.Equal(*req.Labels, cur.Metadata.Labels) {
			return false
		}
		return req.Backend == nil || req.Backend.Equal(cur.Spec.Backend)
	}
	w := write[api.Service]{
		repeatable: req.IfMatchGeneration != nil,
		settle: settleUpdate(s.r, name, req.IfMatchGeneration,
			func(x *api.Service) int64 { return x.Metadata.Generation }, matches, opts),
	}
	return callObject[api.Service](ctx, s.r, http.MethodPatch, name, "", req, w, opts)
}

// Delete deletes a service. A running service needs Force (else op.conflict).
func (s *ServicesClient) Delete(ctx context.Context, name string, do DeleteOptions, opts ...CallOption) error {
	return deleteObject(ctx, s.r, name, do.IfMatchGeneration, do.Force, opts)
}

// Start starts a service (a no-op for a running one) and, with WaitUntil
// "ready" or "healthy", waits for it.
func (s *ServicesClient) Start(ctx context.Context, name string, ao ActionOptions, opts ...CallOption) (*api.Service, error) {
	return s.action(ctx, name, "start", ao, []string{api.WaitReady, api.WaitHealthy}, write[api.Service]{repeatable: true}, opts)
}

// Stop stops a service (a no-op for a stopped one) and, with WaitUntil
// "stopped", waits for it.
func (s *ServicesClient) Stop(ctx context.Context, name string, ao ActionOptions, opts ...CallOption) (*api.Service, error) {
	return s.action(ctx, name, "stop", ao, []string{api.WaitStopped}, write[api.Service]{repeatable: true}, opts)
}

// Restart stops and starts a service and, with WaitUntil "ready" or
// "healthy", waits for it.
//
// A repeated restart is a second restart, so Restart reads the service
// first; after an attempt that may have reached the server it re-reads it
// and sends the restart again only when the service shows no sign of it
// (see restarted).
func (s *ServicesClient) Restart(ctx context.Context, name string, ao ActionOptions, opts ...CallOption) (*api.Service, error) {
	if err := requireID(s.r.kind, s.r.idField, name); err != nil {
		return nil, err
	}
	before, err := s.Get(ctx, name, opts...)
	if err != nil {
		return nil, err
	}
	w := write[api.Service]{happened: func(ctx context.Context) (*api.Service, bool, error) {
		cur, err := s.Get(ctx, name, opts...)
		if err != nil {
			return nil, false, err
		}
		return cur, restarted(before, cur), nil
	}}
	return s.action(ctx, name, "restart", ao, []string{api.WaitReady, api.WaitHealthy}, w, opts)
}

// restarted reports whether cur, read after a restart request, shows that
// the service went through a stop or start since before was read: its
// lifecycle state or its Ready or Progressing condition changed.
func restarted(before, cur *api.Service) bool {
	if before.Status.LifecycleState != cur.Status.LifecycleState {
		return true
	}
	for _, typ := range []string{api.ConditionReady, api.ConditionProgressing} {
		if !conditionTime(before, typ).Equal(conditionTime(cur, typ)) {
			return true
		}
	}
	return false
}

func conditionTime(s *api.Service, typ string) time.Time {
	for _, c := range s.Status.Conditions {
		if c.Type == typ {
			return c.LastTransitionTime
		}
	}
	return time.Time{}
}

// action runs verb on the service name; a WaitUntil must be one of allowed.
// A non-zero IfMatchGeneration makes the action generation-checked. w says
// how it is retried (start and stop are no-ops when repeated, so they are
// repeatable; see Restart).
func (s *ServicesClient) action(ctx context.Context, name, verb string, ao ActionOptions, allowed []string, w write[api.Service], opts []CallOption) (*api.Service, error) {
	reject := func(until string) error {
		if slices.Contains(allowed, until) {
			return nil
		}
		return errorf("%s of service %q: waitUntil %q is not allowed; use one of %q", verb, name, until, allowed)
	}
	var body any
	if ao.IfMatchGeneration != 0 {
		g := ao.IfMatchGeneration
		body = api.ServiceActionRequest{IfMatchGeneration: &g}
	}
	return act(ctx, s.r, name, verb, body, ao, reject, s.Wait, w, opts)
}

// Wait waits until the service is "ready" (running ∧ readiness ready ∧
// observedGeneration ≥ generation), "healthy" (ready ∧ health healthy) or
// "stopped". A failed state ends the wait at once with a *WaitError
// (Failed); a passed deadline returns a *WaitError carrying the last
// observed status. It long-polls, falling back to polling at the interval.
func (s *ServicesClient) Wait(ctx context.Context, name string, wo WaitOptions, opts ...CallOption) (*api.Service, error) {
	return waitObject(ctx, s.r, name, wo, serviceWaits, opts)
}

package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// This file holds the request plumbing shared by Services, Sandboxes and
// Sessions: one helper per kind of call (create, get, list, update, action,
// delete, wait), parameterised by the collection and the object type. The
// exported methods of the three clients are one-line calls of these.

// collection is one kind of object under a tenant: where it lives and how
// errors name it.
type collection struct {
	c *Client
	// segment is the path segment under the tenant ("services").
	segment string
	// kind and idField name the object and its identifier in errors
	// ("service", "name").
	kind, idField string
}

// path returns the collection's path for the call, or the path of the object
// id when id is set.
func (r collection) path(id string, o callOptions) (string, error) {
	base, err := r.c.tenantPath(o)
	if err != nil {
		return "", err
	}
	if id == "" {
		return base + "/" + r.segment, nil
	}
	return base + "/" + r.segment + "/" + escape(id), nil
}

// object checks that id is set and returns the call's options and the
// object's path.
func (r collection) object(id string, opts []CallOption) (callOptions, string, error) {
	if err := requireID(r.kind, r.idField, id); err != nil {
		return callOptions{}, "", err
	}
	o := applyOptions(opts)
	p, err := r.path(id, o)
	return o, p, err
}

// call performs one API call (see Client.do) and decodes the JSON answer
// into a new T.
func call[T any](ctx context.Context, c *Client, rq *request) (*T, error) {
	var out T
	if err := c.do(ctx, rq, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// newIdempotencyKey returns a fresh Idempotency-Key: one per Create call,
// sent on each of its attempts.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "nimbus-go-" + hex.EncodeToString(b[:])
}

// create POSTs req to the collection and returns the created object. The
// POST carries an Idempotency-Key (the call's own, or IdempotencyKey's), so
// it is retried even after an attempt that may have reached the server: the
// server answers a repeat with the object the first attempt created.
func create[T any](ctx context.Context, r collection, req any, opts []CallOption) (*T, error) {
	o := applyOptions(opts)
	p, err := r.path("", o)
	if err != nil {
		return nil, err
	}
	key := o.idempotencyKey
	if key == "" {
		key = newIdempotencyKey()
	}
	return call[T](ctx, r.c, &request{method: http.MethodPost, path: p, body: req, idempotencyKey: key, repeatable: true})
}

// getObject reads the object id. With a ChangedSince option it long-polls.
func getObject[T any](ctx context.Context, r collection, id string, opts []CallOption) (*T, error) {
	o, p, err := r.object(id, opts)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	wait := longPollQuery(q, o)
	return call[T](ctx, r.c, &request{method: http.MethodGet, path: p, query: q, longPoll: wait, repeatable: true})
}

// write says how a write may be retried after an attempt that may have
// reached the server (see request): repeatable, or with a happened check;
// and settle, if set, recognises a failure of a later attempt as the effect
// of the earlier one (a 412 because that attempt already moved the
// generation): it re-reads and returns the object when it shows what was
// asked.
type write[T any] struct {
	repeatable bool
	happened   func(ctx context.Context) (*T, bool, error)
	settle     func(ctx context.Context, err error) (*T, bool)
}

// callObject sends method with body req to the object id, or to its
// sub-resource suffix (such as "/close"), and returns the object it answers.
func callObject[T any](ctx context.Context, r collection, method, id, suffix string, req any, w write[T], opts []CallOption) (*T, error) {
	_, p, err := r.object(id, opts)
	if err != nil {
		return nil, err
	}
	rq := &request{method: method, path: p + suffix, body: req, repeatable: w.repeatable}
	var seen *T
	if w.happened != nil {
		rq.happened = func(ctx context.Context) (bool, error) {
			obj, ok, err := w.happened(ctx)
			seen = obj
			return ok, err
		}
	}
	out, err := call[T](ctx, r.c, rq)
	switch {
	case errors.Is(err, errHappened):
		return seen, nil
	case err != nil && rq.mayHaveLanded && w.settle != nil:
		if obj, ok := w.settle(ctx, err); ok {
			return obj, nil
		}
	}
	return out, err
}

// settleUpdate is the settle of a generation-checked PATCH: a 412 after an
// attempt that may have reached the server is that attempt's own effect
// when the object is now at the next generation and shows what was asked
// (matches).
func settleUpdate[T any](r collection, id string, ifMatch *int64, generation func(*T) int64, matches func(*T) bool, opts []CallOption) func(context.Context, error) (*T, bool) {
	return func(ctx context.Context, err error) (*T, bool) {
		if !IsPreconditionFailed(err) || ifMatch == nil {
			return nil, false
		}
		cur, gerr := getObject[T](ctx, r, id, opts)
		if gerr != nil || generation(cur) != *ifMatch+1 || !matches(cur) {
			return nil, false
		}
		return cur, true
	}
}

// deleteObject deletes the object id. A non-zero ifMatchGeneration makes the
// delete generation-checked, and so safe to send again after an attempt
// that may have reached the server; a resource.not_found answering such a
// repeat means the first attempt deleted it, and is success. force tears
// down a running object.
func deleteObject(ctx context.Context, r collection, id string, ifMatchGeneration int64, force bool, opts []CallOption) error {
	_, p, err := r.object(id, opts)
	if err != nil {
		return err
	}
	q := url.Values{}
	if ifMatchGeneration != 0 {
		q.Set("ifMatchGeneration", strconv.FormatInt(ifMatchGeneration, 10))
	}
	if force {
		q.Set("force", "true")
	}
	rq := &request{method: http.MethodDelete, path: p, query: q, repeatable: ifMatchGeneration != 0}
	err = r.c.do(ctx, rq, nil)
	if err != nil && rq.mayHaveLanded && objectNotFound(err) {
		return nil
	}
	return err
}

// objectNotFound: err is the object's resource.not_found (not its tenant's).
func objectNotFound(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == api.CodeNotFound && (e.Details == nil || e.Details.Kind != "tenant")
}

// waitFunc is the signature of the clients' Wait methods.
type waitFunc[T any] func(ctx context.Context, id string, wo WaitOptions, opts ...CallOption) (*T, error)

// act runs the action verb on the object id (POST …/{id}/{verb} with body
// req, retried as w says) and, when ao.WaitUntil is set, waits with wait for
// the object to reach it. reject, called before anything is sent, returns
// the error for a WaitUntil the action cannot reach (nil if it can); the id
// is checked first so that a missing id is reported before a bad WaitUntil.
func act[T any](ctx context.Context, r collection, id, verb string, req any, ao ActionOptions,
	reject func(until string) error, wait waitFunc[T], w write[T], opts []CallOption,
) (*T, error) {
	if err := requireID(r.kind, r.idField, id); err != nil {
		return nil, err
	}
	if ao.WaitUntil != "" {
		if err := reject(ao.WaitUntil); err != nil {
			return nil, err
		}
	}
	out, err := callObject[T](ctx, r, http.MethodPost, id, "/"+verb, req, w, opts)
	if err != nil || ao.WaitUntil == "" {
		return out, err
	}
	return wait(ctx, id, WaitOptions{Until: ao.WaitUntil, Timeout: ao.Timeout, Interval: ao.Interval, Progress: ao.Progress}, opts...)
}

// waitKind is what a wait needs to know about one type of object.
type waitKind[T any] struct {
	// checker builds the check for the target until, or rejects the target.
	checker func(id, until string) (checker[*T], error)
	// describe summarises an object's status for error messages.
	describe func(*T) (state, message, summary string)
	// resourceVersion returns the object's metadata.resourceVersion.
	resourceVersion func(*T) string
}

// waitObject waits until the object id reaches wo.Until: the one wait loop
// (waitFor) long-polling getObject.
func waitObject[T any](ctx context.Context, r collection, id string, wo WaitOptions, k waitKind[T], opts []CallOption) (*T, error) {
	if err := requireID(r.kind, r.idField, id); err != nil {
		return nil, err
	}
	check, err := k.checker(id, wo.Until)
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context, changedSince string, wait time.Duration) (*T, string, error) {
		o := append(append([]CallOption{}, opts...), ChangedSince(changedSince, wait))
		obj, err := getObject[T](ctx, r, id, o)
		if err != nil {
			return nil, "", err
		}
		return obj, k.resourceVersion(obj), nil
	}
	return waitFor(ctx, get, check, waitParams[*T]{
		kind: r.kind, name: id, until: wo.Until, timeout: wo.Timeout, interval: wo.Interval, describe: k.describe,
		progress: wo.Progress,
	})
}

// page is one page of a listing. Its shape is that of api.ServiceList,
// api.SandboxList and api.SessionList, so a *page[api.Service] converts to
// an *api.ServiceList (and the conversion stops compiling if they diverge).
type page[T any] struct {
	Items    []T          `json:"items"`
	Metadata api.ListMeta `json:"metadata"`
}

// listPage reads one page of the collection with the listing query q.
func listPage[T any](ctx context.Context, r collection, q url.Values, opts []CallOption) (*page[T], error) {
	p, err := r.path("", applyOptions(opts))
	if err != nil {
		return nil, err
	}
	return call[page[T]](ctx, r.c, &request{method: http.MethodGet, path: p, query: q, repeatable: true})
}

// allPages iterates over every item of the listing whose page at a token has
// the query query(token), starting at token and following nextPageToken. An
// error is yielded once, as the last element.
func allPages[T any](ctx context.Context, r collection, token string, query func(token string) url.Values, opts []CallOption) iter.Seq2[T, error] {
	return paginate(token, func(token string) ([]T, string, error) {
		l, err := listPage[T](ctx, r, query(token), opts)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Metadata.NextPageToken, nil
	})
}

// labelledListQuery is the query of one page of a listing filtered by label
// and lifecycle state (services, sandboxes). Empty values are left out.
func labelledListQuery(limit int, pageToken, labelKey, labelValue, lifecycleState string) url.Values {
	q := url.Values{}
	setInt(q, "limit", limit)
	setStr(q, "pageToken", pageToken)
	setStr(q, "labelKey", labelKey)
	setStr(q, "labelValue", labelValue)
	setStr(q, "lifecycleState", lifecycleState)
	return q
}

// paginate yields every item of every page, starting at token.
func paginate[T any](token string, fetch func(token string) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		seen := map[string]bool{}
		for {
			items, next, err := fetch(token)
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

package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// SessionsClient manages sessions: scoped, expiring connections to a running
// service or sandbox.
type SessionsClient struct{ r collection }

// ListSessionsOptions filters and pages a session listing.
type ListSessionsOptions struct {
	// State keeps sessions in that state (open, closed, expired).
	State     string
	Limit     int
	PageToken string
}

// query is the listing's query for the page at pageToken.
func (o ListSessionsOptions) query(pageToken string) url.Values {
	q := url.Values{}
	setStr(q, "state", o.State)
	setInt(q, "limit", o.Limit)
	setStr(q, "pageToken", pageToken)
	return q
}

// Open opens a session on a running service or sandbox.
func (s *SessionsClient) Open(ctx context.Context, req api.OpenSessionRequest, opts ...CallOption) (*api.Session, error) {
	return create[api.Session](ctx, s.r, req, opts)
}

// Get reads a session. With ChangedSince it long-polls.
func (s *SessionsClient) Get(ctx context.Context, id string, opts ...CallOption) (*api.Session, error) {
	return getObject[api.Session](ctx, s.r, id, opts)
}

// List reads one page of sessions.
func (s *SessionsClient) List(ctx context.Context, lo ListSessionsOptions, opts ...CallOption) (*api.SessionList, error) {
	l, err := listPage[api.Session](ctx, s.r, lo.query(lo.PageToken), opts)
	return (*api.SessionList)(l), err
}

// All iterates over every session matching lo, following nextPageToken.
func (s *SessionsClient) All(ctx context.Context, lo ListSessionsOptions, opts ...CallOption) iter.Seq2[api.Session, error] {
	return allPages[api.Session](ctx, s.r, lo.PageToken, lo.query, opts)
}

// Close closes a session with a reason. It is sent again after an attempt
// that may have reached the server; when that attempt had closed it, the
// repeat's op.conflict is recognised by re-reading the session (closed
// with this reason) and the closed session is returned.
func (s *SessionsClient) Close(ctx context.Context, id, reason string, opts ...CallOption) (*api.Session, error) {
	w := write[api.Session]{repeatable: true, settle: func(ctx context.Context, err error) (*api.Session, bool) {
		if !IsConflict(err) {
			return nil, false
		}
		cur, gerr := s.Get(ctx, id, opts...)
		if gerr != nil || cur.Status.LifecycleState != api.SessionClosed || (reason != "" && cur.Status.CloseReason != reason) {
			return nil, false
		}
		return cur, true
	}}
	return callObject[api.Session](ctx, s.r, http.MethodPost, id, "/close", api.CloseSessionRequest{Reason: reason}, w, opts)
}

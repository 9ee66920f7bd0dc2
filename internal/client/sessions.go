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
type SessionsClient struct{ c *Client }

// ListSessionsOptions filters and pages a session listing.
type ListSessionsOptions struct {
	// State keeps sessions in that state (open, closed, expired).
	State     string
	Limit     int
	PageToken string
}

func (o ListSessionsOptions) query() url.Values {
	q := url.Values{}
	setStr(q, "state", o.State)
	setInt(q, "limit", o.Limit)
	setStr(q, "pageToken", o.PageToken)
	return q
}

func (s *SessionsClient) path(id string, o callOptions) (string, error) {
	base, err := s.c.tenantPath(o)
	if err != nil {
		return "", err
	}
	if id == "" {
		return base + "/sessions", nil
	}
	return base + "/sessions/" + escape(id), nil
}

// Open opens a session on a running service or sandbox.
func (s *SessionsClient) Open(ctx context.Context, req api.OpenSessionRequest, opts ...CallOption) (*api.Session, error) {
	p, err := s.path("", applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.Session
	if err := s.c.do(ctx, http.MethodPost, p, nil, req, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get reads a session. With ChangedSince it long-polls.
func (s *SessionsClient) Get(ctx context.Context, id string, opts ...CallOption) (*api.Session, error) {
	if err := requireID("session", "id", id); err != nil {
		return nil, err
	}
	o := applyOptions(opts)
	p, err := s.path(id, o)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	wait := longPollQuery(q, o)
	var out api.Session
	if err := s.c.do(ctx, http.MethodGet, p, q, nil, &out, wait); err != nil {
		return nil, err
	}
	return &out, nil
}

// List reads one page of sessions.
func (s *SessionsClient) List(ctx context.Context, lo ListSessionsOptions, opts ...CallOption) (*api.SessionList, error) {
	p, err := s.path("", applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.SessionList
	if err := s.c.do(ctx, http.MethodGet, p, lo.query(), nil, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

// All iterates over every session matching lo, following nextPageToken.
func (s *SessionsClient) All(ctx context.Context, lo ListSessionsOptions, opts ...CallOption) iter.Seq2[api.Session, error] {
	return paginate(lo.PageToken, func(token string) ([]api.Session, string, error) {
		lo.PageToken = token
		l, err := s.List(ctx, lo, opts...)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Metadata.NextPageToken, nil
	})
}

// Close closes a session with a reason.
func (s *SessionsClient) Close(ctx context.Context, id, reason string, opts ...CallOption) (*api.Session, error) {
	if err := requireID("session", "id", id); err != nil {
		return nil, err
	}
	p, err := s.path(id, applyOptions(opts))
	if err != nil {
		return nil, err
	}
	var out api.Session
	if err := s.c.do(ctx, http.MethodPost, p+"/close", nil, api.CloseSessionRequest{Reason: reason}, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

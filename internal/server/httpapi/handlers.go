package httpapi

import (
	"context"
	"net/http"

	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
)

// The handlers are built from these shapes: each parses the path and the
// query or body, calls one domain method and writes its answer (or maps
// its error).

// keyFunc reads and checks the object key (name or id) in the path.
type keyFunc func(r *http.Request) (string, *apiError)

// reply writes v with status, or answers err.
func (s *API) reply(w http.ResponseWriter, status int, v any, err error) *apiError {
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, status, v)
	return nil
}

// bodyRoute decodes a Req body (optional: an empty body is the zero Req)
// and answers call's result with status. key, when not nil, reads the
// object key from the path first.
func bodyRoute[Req, Out any](s *API, key keyFunc, optional bool, status int, call func(ctx context.Context, tenant, key string, req Req) (Out, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
		var k string
		if key != nil {
			var e *apiError
			if k, e = key(r); e != nil {
				return e
			}
		}
		var req Req
		if e := decode(r, w, &req, optional); e != nil {
			return e
		}
		out, err := call(r.Context(), tenant, k, req)
		return s.reply(w, status, out, err)
	}
}

// getRoute answers one object, after its long-poll (changedSince, waitMs).
// before, when not nil, runs first (sessions expire when due).
func getRoute[Out any](s *API, kind string, key keyFunc, before func(tenant, key string), get func(tenant, key string) (Out, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
		k, e := key(r)
		if e != nil {
			return e
		}
		if before != nil {
			before(tenant, k)
		}
		if e := s.awaitChange(r, kind, tenant, k); e != nil {
			return e
		}
		out, err := get(tenant, k)
		return s.reply(w, http.StatusOK, out, err)
	}
}

// listRoute answers one page of a list, assembled from the items' JSON.
func listRoute(s *API, kind, stateParam string, states []string, list func(tenant string, q domain.ListQuery) (domain.Page, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
		p, e := s.parseList(r, kind, tenant, stateParam, states)
		if e != nil {
			return e
		}
		page, err := list(tenant, p)
		tok := ""
		if err == nil && page.Next != "" {
			tok = s.encodePageToken(kind, tenant, p, page.Next)
		}
		s.writeList(w, page, tok, err)
		return nil
	}
}

// deleteRoute deletes one object (query ifMatchGeneration and force) and
// answers 204 without a body.
func deleteRoute(key keyFunc, del func(ctx context.Context, tenant, key string, ifMatchGen *int64, force bool) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
		k, e := key(r)
		if e != nil {
			return e
		}
		gen, e := parseIfMatch(r)
		if e != nil {
			return e
		}
		force, e := parseForce(r)
		if e != nil {
			return e
		}
		if err := del(r.Context(), tenant, k, gen, force); err != nil {
			return asAPIError(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

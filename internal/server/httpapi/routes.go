package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/auth"
)

// handlerFunc serves one tenant-scoped route; a returned error is written
// as the API error body.
type handlerFunc func(w http.ResponseWriter, r *http.Request, tenant string) *apiError

func (s *API) routes() http.Handler {
	mux := http.NewServeMux()
	const t = "/v1/tenants/{tenant}"
	handle := func(pattern string, h handlerFunc) { mux.Handle(pattern, s.tenantRoute(h)) }

	mux.Handle("GET /v1/tenants", s.authRoute(s.listTenants))

	idemServices, idemSandboxes, idemSessions := s.idemOps()
	handle("POST "+t+"/services", s.idempotent(idemServices, s.createService()))
	handle("GET "+t+"/services", s.listServices())
	handle("GET "+t+"/services/{name}", s.getService())
	handle("PATCH "+t+"/services/{name}", s.updateService())
	handle("DELETE "+t+"/services/{name}", s.deleteService())
	handle("POST "+t+"/services/{name}/start", s.serviceAction(s.d.StartService))
	handle("POST "+t+"/services/{name}/stop", s.serviceAction(s.d.StopService))
	handle("POST "+t+"/services/{name}/restart", s.serviceAction(s.d.RestartService))

	handle("POST "+t+"/sandboxes", s.idempotent(idemSandboxes, s.createSandbox()))
	handle("GET "+t+"/sandboxes", s.listSandboxes())
	handle("GET "+t+"/sandboxes/{id}", s.getSandbox())
	handle("PATCH "+t+"/sandboxes/{id}", s.updateSandbox())
	handle("DELETE "+t+"/sandboxes/{id}", s.deleteSandbox())
	handle("POST "+t+"/sandboxes/{id}/stop", s.stopSandbox())

	handle("POST "+t+"/sessions", s.idempotent(idemSessions, s.openSession()))
	handle("GET "+t+"/sessions", s.listSessions())
	handle("GET "+t+"/sessions/{id}", s.getSession())
	handle("POST "+t+"/sessions/{id}/close", s.closeSession())

	// Known paths with another method: request.method_not_allowed (JSON),
	// more specific method patterns above win.
	for path, allow := range map[string]string{
		"/v1/tenants":                  "GET",
		t + "/services":                "GET, POST",
		t + "/services/{name}":         "GET, PATCH, DELETE",
		t + "/services/{name}/start":   "POST",
		t + "/services/{name}/stop":    "POST",
		t + "/services/{name}/restart": "POST",
		t + "/sandboxes":               "GET, POST",
		t + "/sandboxes/{id}":          "GET, PATCH, DELETE",
		t + "/sandboxes/{id}/stop":     "POST",
		t + "/sessions":                "GET, POST",
		t + "/sessions/{id}":           "GET",
		t + "/sessions/{id}/close":     "POST",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.writeError(w, r, errf(api.CodeMethodNotAllowed, "method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errf(api.CodeNotFound, "no API route %s %s; routes live under /v1/tenants/{tenantId}/(services|sandboxes|sessions)", r.Method, r.URL.Path))
	})
	return s.middleware(mux)
}

// authRoute authenticates a route that is not tenant-scoped.
func (s *API) authRoute(h func(w http.ResponseWriter, r *http.Request, p auth.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, e := s.authenticate(r)
		if info, ok := r.Context().Value(reqInfoKey).(*reqInfo); ok && e == nil {
			info.credential = p.Name()
			info.tenant = r.PathValue("tenant")
		}
		if e == nil {
			e = s.rateCheck(p)
		}
		if e != nil {
			s.writeError(w, r, e)
			return
		}
		h(w, withPrincipal(r, p), p)
	})
}

func (s *API) rateCheck(p auth.Principal) *apiError {
	if s.limiter == nil {
		return nil
	}
	if ok, wait := s.limiter.allow(p.Name()); !ok {
		return &apiError{Code: api.CodeRateLimited, Message: "too many requests for this credential; retry after the Retry-After delay", RetryAfter: max(wait, time.Second)}
	}
	return nil
}

// tenantRoute authenticates, authorises the tenant in the path and runs h.
func (s *API) tenantRoute(h handlerFunc) http.Handler {
	return s.authRoute(func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
		t := r.PathValue("tenant")
		var e *apiError
		switch {
		case api.ValidateName(t) != nil:
			e = invalidField("tenantId", "%s", api.NameRule)
		case !p.Allowed(t):
			e = &apiError{Code: api.CodePermissionDenied, Message: "the credential is not allowed in tenant \"" + t + "\"; use a credential bound to it or another tenant",
				Details: &api.ErrorDetails{Kind: "tenant", Name: t}}
		case !s.auth.TenantExists(t):
			e = &apiError{Code: api.CodeNotFound, Message: "tenant \"" + t + "\" not found on this server",
				Details: &api.ErrorDetails{Kind: "tenant", Name: t}}
		default:
			e = h(w, r, t)
		}
		if e != nil {
			s.writeError(w, r, e)
		}
	})
}

func (s *API) listTenants(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	out := api.TenantList{Items: []api.Tenant{}}
	for _, t := range s.auth.VisibleTenants(p) {
		out.Items = append(out.Items, api.Tenant{ID: t})
	}
	s.writeJSON(w, http.StatusOK, out)
}

// awaitChange implements the long-poll of single-object GETs: with
// changedSince=<resourceVersion> it returns as soon as the object's
// resourceVersion differs (at once if it already does), when it is
// deleted, after waitMs (default and maximum 60000), or when the server
// drains.
func (s *API) awaitChange(r *http.Request, kind, tenant, key string) *apiError {
	q := r.URL.Query()
	since := q.Get(api.QueryChangedSince)
	wait := api.MaxWaitMs
	if ws := q.Get(api.QueryWaitMs); ws != "" {
		n, err := strconv.Atoi(ws)
		if err != nil || n < 0 {
			return invalidField(api.QueryWaitMs, "must be a number of milliseconds from 0 to %d, got %q", api.MaxWaitMs, ws)
		}
		wait = min(n, api.MaxWaitMs)
	}
	if !q.Has(api.QueryChangedSince) {
		if q.Has(api.QueryWaitMs) {
			return invalidField(api.QueryWaitMs, "requires %s=<resourceVersion>", api.QueryChangedSince)
		}
		return nil
	}
	if since == "" {
		return invalidField(api.QueryChangedSince, "must be a resourceVersion you read")
	}
	// The long-poll timeout is transport time, not domain time: it uses the
	// wall clock even when the server runs on a fake clock.
	timer := time.NewTimer(time.Duration(wait) * time.Millisecond)
	defer timer.Stop()
	for {
		if !s.awaitOnce(r, kind, tenant, key, since, timer.C) {
			return nil
		}
	}
}

// awaitOnce registers a watch of the object, then (so no change can slip
// between the check and the wait) compares its resourceVersion with since
// and waits for one change. It reports whether to check again; the watch
// is released either way.
func (s *API) awaitOnce(r *http.Request, kind, tenant, key, since string, timeout <-chan time.Time) bool {
	ch, release := s.d.Watch(kind, tenant, key)
	defer release()
	if s.d.ResourceVersion(kind, tenant, key) != since {
		return false
	}
	select {
	case <-ch:
		return true
	case <-timeout:
	case <-s.drainCh:
	case <-r.Context().Done():
	}
	return false
}

package httpapi

import (
	"net/http"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
)

func sessionID(r *http.Request) (string, *apiError) {
	id := r.PathValue("id")
	if !api.ValidSessionID(id) {
		return "", invalidField("id", "must be a session id such as ses-0123abcd, got %q", id)
	}
	return id, nil
}

func (s *API) openSession(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	var req api.OpenSessionRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	out, err := s.d.OpenSession(r.Context(), tenant, reservedID(r), req)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *API) getSession(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sessionID(r)
	if e != nil {
		return e
	}
	s.d.ExpireSessionIfDue(tenant, id)
	if e := s.awaitChange(r, domain.KindSession, tenant, id); e != nil {
		return e
	}
	out, err := s.d.GetSession(tenant, id)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *API) listSessions(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	p, e := s.parseList(r, domain.KindSession, tenant, "state", domain.SessionStates)
	if e != nil {
		return e
	}
	items, next := s.d.ListSessions(tenant, p)
	out := api.SessionList{Items: items}
	if next != "" {
		out.Metadata.NextPageToken = s.encodePageToken(domain.KindSession, tenant, p, next)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *API) closeSession(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sessionID(r)
	if e != nil {
		return e
	}
	var req api.CloseSessionRequest
	if e := decode(r, w, &req, true); e != nil {
		return e
	}
	out, err := s.d.CloseSession(r.Context(), tenant, id, req.Reason)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

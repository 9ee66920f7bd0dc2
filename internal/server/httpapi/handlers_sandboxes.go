package httpapi

import (
	"net/http"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
)

func sandboxID(r *http.Request) (string, *apiError) {
	id := r.PathValue("id")
	if !api.ValidSandboxID(id) {
		return "", invalidField("id", "must be a sandbox id such as sbx-0123abcd, got %q", id)
	}
	return id, nil
}

func (s *API) createSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	var req api.CreateSandboxRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	out, err := s.d.CreateSandbox(r.Context(), tenant, reservedID(r), req)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *API) getSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sandboxID(r)
	if e != nil {
		return e
	}
	if e := s.awaitChange(r, domain.KindSandbox, tenant, id); e != nil {
		return e
	}
	out, err := s.d.GetSandbox(tenant, id)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *API) listSandboxes(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	p, e := s.parseList(r, domain.KindSandbox, tenant, "lifecycleState", domain.SandboxStates)
	if e != nil {
		return e
	}
	items, next := s.d.ListSandboxes(tenant, p)
	out := api.SandboxList{Items: items}
	if next != "" {
		out.Metadata.NextPageToken = s.encodePageToken(domain.KindSandbox, tenant, p, next)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *API) updateSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sandboxID(r)
	if e != nil {
		return e
	}
	var req api.UpdateSandboxRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	out, err := s.d.UpdateSandbox(r.Context(), tenant, id, req)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *API) deleteSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sandboxID(r)
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
	if err := s.d.DeleteSandbox(r.Context(), tenant, id, gen, force); err != nil {
		return asAPIError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *API) stopSandbox(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	id, e := sandboxID(r)
	if e != nil {
		return e
	}
	var req api.SandboxActionRequest
	if e := decode(r, w, &req, true); e != nil {
		return e
	}
	out, err := s.d.StopSandbox(r.Context(), tenant, id, req.IfMatchGeneration)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

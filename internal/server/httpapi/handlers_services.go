package httpapi

import (
	"context"
	"net/http"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
)

func serviceName(r *http.Request) (string, *apiError) {
	n := r.PathValue("name")
	if api.ValidateName(n) != nil {
		return "", invalidField("name", "%s", api.NameRule)
	}
	return n, nil
}

func (s *API) createService(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	var req api.CreateServiceRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	out, err := s.d.CreateService(r.Context(), tenant, req)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *API) getService(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	name, e := serviceName(r)
	if e != nil {
		return e
	}
	if e := s.awaitChange(r, domain.KindService, tenant, name); e != nil {
		return e
	}
	out, err := s.d.GetService(tenant, name)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *API) listServices(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	p, e := s.parseList(r, domain.KindService, tenant, "lifecycleState", domain.ServiceStates)
	if e != nil {
		return e
	}
	items, next := s.d.ListServices(tenant, p)
	out := api.ServiceList{Items: items}
	if next != "" {
		out.Metadata.NextPageToken = s.encodePageToken(domain.KindService, tenant, p, next)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *API) updateService(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	name, e := serviceName(r)
	if e != nil {
		return e
	}
	var req api.UpdateServiceRequest
	if e := decode(r, w, &req, false); e != nil {
		return e
	}
	out, err := s.d.UpdateService(r.Context(), tenant, name, req)
	if err != nil {
		return asAPIError(err)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *API) deleteService(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
	name, e := serviceName(r)
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
	if err := s.d.DeleteService(r.Context(), tenant, name, gen, force); err != nil {
		return asAPIError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serviceVerb is one of the domain's StartService, StopService and
// RestartService.
type serviceVerb func(ctx context.Context, tenant, name string, ifMatchGen *int64) (*api.Service, error)

func (s *API) serviceAction(action serviceVerb) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, tenant string) *apiError {
		name, e := serviceName(r)
		if e != nil {
			return e
		}
		var req api.ServiceActionRequest
		if e := decode(r, w, &req, true); e != nil {
			return e
		}
		out, err := action(r.Context(), tenant, name, req.IfMatchGeneration)
		if err != nil {
			return asAPIError(err)
		}
		s.writeJSON(w, http.StatusOK, out)
		return nil
	}
}

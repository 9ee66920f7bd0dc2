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

func (s *API) createService() handlerFunc {
	return bodyRoute(s, nil, false, http.StatusCreated, func(ctx context.Context, tenant, _ string, req api.CreateServiceRequest) (*api.Service, error) {
		return s.d.CreateService(ctx, tenant, req)
	})
}

func (s *API) getService() handlerFunc {
	return getRoute(s, domain.KindService, serviceName, nil, s.d.GetService)
}

func (s *API) listServices() handlerFunc {
	return listRoute(s, domain.KindService, "lifecycleState", domain.ServiceStates, s.d.ListServices)
}

func (s *API) updateService() handlerFunc {
	return bodyRoute(s, serviceName, false, http.StatusOK, s.d.UpdateService)
}

func (s *API) deleteService() handlerFunc { return deleteRoute(serviceName, s.d.DeleteService) }

// serviceVerb is one of the domain's StartService, StopService and
// RestartService.
type serviceVerb func(ctx context.Context, tenant, name string, ifMatchGen *int64) (*api.Service, error)

func (s *API) serviceAction(action serviceVerb) handlerFunc {
	return bodyRoute(s, serviceName, true, http.StatusOK, func(ctx context.Context, tenant, name string, req api.ServiceActionRequest) (*api.Service, error) {
		return action(ctx, tenant, name, req.IfMatchGeneration)
	})
}

package httpapi

import (
	"context"
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

func (s *API) createSandbox() handlerFunc {
	return bodyRoute(s, nil, false, http.StatusCreated, func(ctx context.Context, tenant, _ string, req api.CreateSandboxRequest) (*api.Sandbox, error) {
		return s.d.CreateSandbox(ctx, tenant, reservedID(ctx), req)
	})
}

func (s *API) getSandbox() handlerFunc {
	return getRoute(s, domain.KindSandbox, sandboxID, nil, s.d.GetSandbox)
}

func (s *API) listSandboxes() handlerFunc {
	return listRoute(s, domain.KindSandbox, "lifecycleState", domain.SandboxStates, s.d.ListSandboxes)
}

func (s *API) updateSandbox() handlerFunc {
	return bodyRoute(s, sandboxID, false, http.StatusOK, s.d.UpdateSandbox)
}

func (s *API) deleteSandbox() handlerFunc { return deleteRoute(sandboxID, s.d.DeleteSandbox) }

func (s *API) stopSandbox() handlerFunc {
	return bodyRoute(s, sandboxID, true, http.StatusOK, func(ctx context.Context, tenant, id string, req api.SandboxActionRequest) (*api.Sandbox, error) {
		return s.d.StopSandbox(ctx, tenant, id, req.IfMatchGeneration)
	})
}

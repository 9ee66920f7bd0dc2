package httpapi

import (
	"context"
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

func (s *API) openSession() handlerFunc {
	return bodyRoute(s, nil, false, http.StatusCreated, func(ctx context.Context, tenant, _ string, req api.OpenSessionRequest) (*api.Session, error) {
		return s.d.OpenSession(ctx, tenant, reservedID(ctx), req)
	})
}

// getSession expires the session first when it is due, so a read never
// shows an open session past expiresAt.
func (s *API) getSession() handlerFunc {
	return getRoute(s, domain.KindSession, sessionID, s.d.ExpireSessionIfDue, s.d.GetSession)
}

func (s *API) listSessions() handlerFunc {
	return listRoute(s, domain.KindSession, "state", domain.SessionStates, s.d.ListSessions)
}

func (s *API) closeSession() handlerFunc {
	return bodyRoute(s, sessionID, true, http.StatusOK, func(ctx context.Context, tenant, id string, req api.CloseSessionRequest) (*api.Session, error) {
		return s.d.CloseSession(ctx, tenant, id, req.Reason)
	})
}

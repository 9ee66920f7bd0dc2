package httpapi

import (
	"context"
	"net/http"
)

func contextWithValue(r *http.Request, k, v any) context.Context {
	return context.WithValue(r.Context(), k, v)
}

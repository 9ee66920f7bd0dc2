package client

import (
	"context"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// This file holds the one retry of a request whose workload-identity token,
// read from the token file named by NIMBUS_WORKLOAD_IDENTITY_TOKEN_FILE, the
// server refused as expired. It sits between the retry loop (Client.do) and
// one HTTP attempt (Client.attempt), apart from the loop's own backoff
// rules.

// attemptRenewingToken runs one attempt and, when the server answered
// auth.unauthenticated with reason token_expired for a token read from a
// token file, runs it once more: attempt re-reads the file, so a token
// rotated in place since the request was built is sent. The server did not
// act on the refused request, so repeating it is safe for every method. If
// the file still holds the expired token, the second refusal is returned.
func (c *Client) attemptRenewingToken(ctx context.Context, rq *request, rawURL string, body []byte, out any) (*response, error) {
	resp, err := c.attempt(ctx, rq, rawURL, body, out)
	if err == nil || c.r.cred.tokenFile == "" || !IsTokenExpired(err) || ctx.Err() != nil {
		return resp, err
	}
	return c.attempt(ctx, rq, rawURL, body, out)
}

// IsTokenExpired reports whether err is auth.unauthenticated because the
// workload-identity token expired (error.details.reason token_expired).
func IsTokenExpired(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == api.CodeUnauthenticated && e.Details != nil && e.Details.Reason == api.ReasonTokenExpired
}

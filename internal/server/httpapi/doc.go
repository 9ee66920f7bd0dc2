// Package httpapi is the Nimbus server's HTTP layer: it decodes a request
// (strictly: unknown or repeated fields are request.invalid, named by their
// full JSON path), authenticates it (package auth) and checks its tenant,
// applies rate limits, the in-flight cap and body read deadlines, calls
// one method of the domain (package domain), and encodes the answer or
// maps the domain's *domain.Error to the JSON error body with its request
// id. It also owns what only HTTP has: long-polls (changedSince/waitMs),
// HMAC-protected page tokens, the replay of idempotent creates
// (Idempotency-Key), draining, and the request log.
//
//   - api.go: Config, New, Handler, Drain, WaitIdle.
//   - routes.go: the routes, authentication, tenant checks, long-poll.
//   - http.go, jsonpath.go: middleware, errors, decoding, list parameters.
//   - handlers_*.go: one file per resource kind, decode → call → encode.
//   - idempotency.go, ratelimit.go: Idempotency-Key replay; token buckets.
package httpapi

// Package e2e holds end-to-end tests: the Go client (internal/client) drives
// a real in-process Nimbus server (internal/testserver) over loopback and
// checks every route, error code, generation/resourceVersion rule, pagination,
// redaction, session expiry, long-poll, runtime, tenant isolation and
// persistence behaviour of the API contract.
package e2e

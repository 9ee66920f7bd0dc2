// Package domain is the Nimbus server's domain layer: it owns every
// service, sandbox and session and drives them through their lifecycles.
//
//   - objects.go: the in-memory copy of every object (table), per-object
//     writer locks (keyLocks) and long-poll watchers.
//   - index.go, encodecache.go: the ordered per-tenant indexes of every
//     list filter (state, label key, key and value, and state with either),
//     kept under the table's lock, so a page seeks and a filter matching
//     nothing costs nothing; each list item's JSON, encoded once per record
//     version (the HTTP layer assembles pages from those bytes).
//   - records.go, domain.go: the stored records, the write path (one
//     generic put for every kind), loading and Close.
//   - services.go, sandboxes.go, session_ops.go: the typed methods the HTTP
//     layer calls, one per API operation (CreateService, StartService,
//     DeleteSandbox, OpenSession, …). They validate their request, take
//     the object's lock (lock order service → sandbox → session) and
//     return the object as the API shows it (secrets redacted) or an
//     error: *Error (with its api error code) for a refusal, any other
//     error for an internal failure.
//   - supervisor.go, sessions.go, conditions.go: the state machines, the
//     runtime instances and health checks, session expiry timers.
//   - idempotency.go: remembered answers to keyed creates.
//   - recovery.go: bringing back after a restart what was running.
//   - watch.go, list.go: what long-polls and list pages (Page) need.
//
// Nothing here knows HTTP; domain_test.go drives the state machines
// through the typed methods alone. See package internal/server for the
// consistency rules and the decisions where the API contract is silent.
package domain

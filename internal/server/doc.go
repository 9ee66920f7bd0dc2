// Package server is the Nimbus server (`terraform-provider-nimbus server`):
// the HTTP API of the project's API reference over a durable store, with a
// supervisor that drives services, sandboxes and sessions through their
// lifecycles on a pluggable runtime.
//
// # Layout
//
//   - cmd.go: Main, flags, the --config file and --dev mode.
//   - server.go: Config, New, Drain, Close; the write path (put*), which
//     assigns resourceVersions and wakes long-polls.
//   - store*.go: the Store interface, the bbolt store (fsync per commit,
//     group commit through bbolt Batch) and the in-memory store.
//   - objects.go: the in-memory copy of every object, per-object writer
//     locks and long-poll watchers.
//   - index.go, encodecache.go: the ordered per-tenant indexes of every
//     list filter (state, label key, key and value, and state with either),
//     kept under the table's lock, so a page seeks and a filter matching
//     nothing costs nothing; pages assembled from each item's JSON, encoded
//     once per record version.
//   - routes.go, http.go: routing (Go 1.22 patterns), authentication and
//     tenant checks, strict decoding, errors, pagination, long-poll.
//   - auth.go, ratelimit.go: credentials (SHA-256 hashes compared in
//     constant time) bound to tenant sets; per-credential token buckets.
//   - handlers_*.go: one file per resource kind.
//   - supervisor.go, sessions.go, conditions.go: state machines.
//   - recovery.go: bringing back after a restart what was running.
//
// # Consistency
//
// Every object lives in memory and in the store. Writers of one object are
// serialised by its key lock (lock order service → sandbox → session), so
// ifMatchGeneration checks and name uniqueness are exact; writes to different
// objects run concurrently and share fsyncs. A write is acknowledged only
// after its commit is durable. Cached objects are immutable: writers clone,
// change and replace them.
//
// generation starts at 1 and grows by one on every spec or label change,
// never on status changes; resourceVersion is a server-wide counter (opaque
// to clients) that changes on every write, status included, and keeps
// growing across restarts.
//
// # Decisions where the contract is silent
//
//   - Session TTL: requestedTtlMs must be 1000..86400000 (request.invalid
//     otherwise), 0/absent means 900000; the server never shortens a valid
//     TTL: expiresAt = open time + TTL on the server clock.
//   - Long-poll: waitMs defaults to and is capped at 60000 (larger values are
//     clamped); it runs on wall time even when the server clock is fake.
//     Deleting the object wakes waiters (they get resource.not_found), and so
//     does draining (they get the current object).
//   - DELETE answers 204 without a body. Sandbox DELETE takes an optional
//     ifMatchGeneration; service DELETE requires it.
//   - Sandboxes owned by a service are managed through the service: stopping
//     or deleting them directly is op.conflict. Closing a session that is not
//     open is op.conflict.
//   - Page tokens are HMAC-protected (tampered or replayed against another
//     list or filter → request.invalid) and stay valid across restarts.
//   - Invalid names or ids in the path are request.invalid; an unknown tenant
//     is resource.not_found for a credential allowed in every tenant and
//     auth.permission_denied for a tenant-bound credential.
//   - Request bodies are read (at most 1 MiB) before a request counts
//     against MaxInFlight, within BodyTimeout (default 10s; slower senders
//     get request.timeout, 408, and are disconnected); Drain cuts off bodies
//     still arriving. Requests without a body, long-polls included, have no
//     read deadline.
//   - Bodies are decoded strictly: unknown fields and keys given twice in
//     one object are request.invalid, named by their full path
//     (backend.endpoint.bogus, labels["team"], channels[1]).
//   - Paths that are not canonical ("//", "." or ".." segments) are
//     request.invalid rather than ServeMux's redirect. Only requests Go's
//     HTTP server rejects before the handler (malformed request lines or
//     headers) are answered without the JSON error body.
//   - External endpoint URLs must not carry credentials (user:password@ or
//     secret-named query parameters): the URL is returned as-is, so it is
//     rejected rather than redacted (which would give clients a perpetual
//     diff).
//   - A long-poll's watch is released when the request ends, however it
//     ends; the watcher table only holds keys someone is waiting on.
//   - After a restart no runtime instance survives. Before the server
//     answers, one commit records the recovery: every service and
//     standalone sandbox whose desired state is running shows starting
//     (sandboxes pending) "again after a server restart", every other
//     active sandbox or service is stopped, and open sessions whose target
//     cannot be the same running instance afterwards are closed ("… did not
//     survive a server restart"; past expiresAt: expired). Only sessions on
//     built-in or external services brought back on the generation they
//     pinned stay open. Then, in the background and 16 at a time, standalone
//     sandboxes and then services (each in tenant and key order) are started
//     again under their writer lock; a client call that drives an object
//     first (stop, restart, a rolling update, delete) takes it over and
//     recovery skips it, while start of a recovering service is a no-op.
//     Recovered reports when every object has been handed to the runtime.
//     The command listens before it loads the store, so early clients wait
//     in the backlog instead of being refused.
package server

// Package server is the Nimbus server (`terraform-provider-nimbus server`):
// the HTTP API of the project's API reference over a durable store, with a
// supervisor that drives services, sandboxes and sessions through their
// lifecycles on a pluggable runtime.
//
// # Layers
//
// Each layer is a package that only uses the exported API of the layers
// below it:
//
//   - command: the `server` sub-command — flags, the --config file, --dev
//     mode and its token, the listener, signals (drain, then close). It
//     builds the server through this facade.
//   - server (this package): a thin facade — Config, New, Handler, Drain,
//     WaitIdle, Close, Recovered, Tenants — that wires auth, domain and
//     httpapi together, so importers (main, internal/testserver, tests)
//     need only this package.
//   - httpapi: the HTTP layer — routing (Go 1.22 patterns), the
//     middleware (request ids, request log, panic recovery, canonical
//     paths, body read deadlines, the in-flight cap, draining),
//     authentication and tenant checks, per-credential rate limits, strict
//     decoding with full JSON field paths, long-polls, HMAC page tokens,
//     idempotent replay of keyed creates; it calls one domain method per
//     route and maps *domain.Error to the JSON error body.
//   - auth: credentials (SHA-256 hashes compared in constant time) and
//     workload identities (package wif) bound to tenant sets; which
//     tenants exist.
//   - domain: every object — in-memory records and tables, per-object
//     writer locks, long-poll watchers, the write path (one generic put
//     that assigns resourceVersions and wakes watchers), the service,
//     sandbox and session state machines, the supervisor of runtime
//     instances and health checks, session timers, idempotency records and
//     recovery after a restart. Its typed methods (CreateService,
//     StartService(ctx, tenant, name, ifMatchGen), …) return *domain.Error
//     carrying the api error code for every refusal, and are unit-tested
//     without HTTP.
//   - store: persistence behind one interface (bbolt with fsync per commit
//     and group commit; in memory), shaped for a networked store later
//     (transactions, ordered range scans, change notification).
//   - runtimes: the sandbox runtimes (simulated, process); health: the
//     HTTP health checker of external services, timed by an
//     internal/clock.Clock.
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

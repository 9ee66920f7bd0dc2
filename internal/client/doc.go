// Package client is the Go client of the Nimbus API (see
// internal/api for the wire types): Services, Sandboxes and Sessions with
// the operations of the Nimbus SDK, configuration discovery, typed errors
// and waits.
//
// Configuration is discovered in the SDK's order (see New and
// CredentialFile). Every call takes a context.Context; per-call options
// (InTenant, ChangedSince) adjust a single call.
//
// Errors from the server are *Error values; branch on their Code with
// IsNotFound, IsPreconditionFailed and friends, never on the message.
// Missing configuration is a *ConfigError returned before any request.
// Waits (Services.Wait, Sandboxes.Wait and the WaitUntil of actions) share
// one loop that long-polls the object (changedSince/waitMs) and falls back
// to polling at the interval against a server without long-poll support; a
// failed state or a passed deadline ends them with a *WaitError.
//
// Retries (Client.do, retryDelay): every call is retried with exponential,
// capped, jittered backoff until its context's deadline (Config.RetryTimeout
// when it has none), honouring Retry-After; there is no fixed count unless
// Config.MaxRetries sets one. rate.limited (429), the API's
// server.unavailable (503) and a refused connection mean nothing was done,
// so every request is retried. After a failure that leaves open whether the
// server acted (a dropped connection, a timeout, a proxy's 502/503/504) only
// requests that are safe to repeat are: reads; creates, which carry an
// Idempotency-Key (one per call, reused by its retries); generation-checked
// updates and deletes, whose repeat's 412 or 404 is recognised as the first
// attempt's effect by re-reading the object; start, stop and session close;
// and restart, which is re-read before it is sent again. Waits ride out a
// server restart the same way: their long-poll reconnects.
package client

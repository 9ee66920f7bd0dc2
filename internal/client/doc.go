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
package client

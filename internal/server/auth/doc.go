// Package auth authenticates the Nimbus server's callers: static bearer
// tokens and API keys (SHA-256 hashes compared in constant time, each bound
// to a set of tenants) and workload-identity tokens of trusted issuers
// (package wif). It also knows which tenants exist. The HTTP layer calls
// Authenticate and checks Principal.Allowed; the command builds
// Credentials from flags and the config file (ParseCredentialFlag) and
// never sees more than this exported API.
package auth

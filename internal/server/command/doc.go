// Package command is the `terraform-provider-nimbus server` sub-command:
// flags (credentials are parsed by package auth and never printed), the
// --config file, --dev mode (with its token kept in the data directory),
// opening the store, the runtime, the listener, and the signals that drain
// and stop the server. It builds the server through the facade package
// internal/server and uses only exported APIs of the layers below.
package command

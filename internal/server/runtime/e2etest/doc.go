// Package e2etest holds end-to-end tests of the sandbox runtimes and the
// external health checker: the Go client drives an in-process server
// (internal/testserver) over loopback, and the process runtime runs real
// child processes (internal/server/runtime/sandboxtest).
package e2etest

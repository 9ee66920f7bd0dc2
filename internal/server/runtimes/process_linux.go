//go:build linux

package runtimes

import "syscall"

// setParentDeathSignal has Linux SIGKILL the child when the server process
// dies (even by kill -9), so no sandbox outlives it; the server launches the
// sandboxes that should run again when it restarts.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}

//go:build unix && !linux

package runtime

import "syscall"

// setParentDeathSignal does nothing: only Linux offers a parent-death signal.
func setParentDeathSignal(*syscall.SysProcAttr) {}

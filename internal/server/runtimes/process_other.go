//go:build !unix

package runtimes

import (
	"os"
	"os/exec"
)

// prepareCommand has nothing to do where process groups do not exist.
func prepareCommand(*exec.Cmd) {}

// terminateGroup kills the process: without Unix signals there is no polite
// request to exit, and no process group to reach its children.
func terminateGroup(p *os.Process) error {
	killGroup(p)
	return nil
}

// killGroup kills the process itself.
func killGroup(p *os.Process) { _ = p.Kill() }

func describeExit(cmd *exec.Cmd, waitErr error) (int, string) {
	return exitCodeMessage(cmd, waitErr)
}

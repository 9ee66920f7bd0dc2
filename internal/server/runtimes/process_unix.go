//go:build unix

package runtimes

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// prepareCommand puts the child in its own process group so that Stop can
// signal everything it spawned, and (where the OS can) has it killed when
// the server dies without stopping it.
func prepareCommand(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
}

// terminateGroup asks the process group led by p to exit (SIGTERM).
func terminateGroup(p *os.Process) error {
	if err := syscall.Kill(-p.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// killGroup kills the process group led by p (SIGKILL). A group that is
// already gone is not an error.
func killGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
}

// describeExit turns a finished command into an exit code and a message that
// names the code or the signal, never the command line or environment.
// A process killed by a signal gets the shell convention 128+signal.
func describeExit(cmd *exec.Cmd, waitErr error) (int, string) {
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig := ws.Signal()
		return 128 + int(sig), fmt.Sprintf("the process was killed by signal %d (%s)", int(sig), sig)
	}
	return exitCodeMessage(cmd, waitErr)
}

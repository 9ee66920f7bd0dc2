package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// ProcessOptions configures the process runtime.
type ProcessOptions struct {
	// StartTimeout bounds how long a process may take to accept TCP
	// connections on its PORT before it is declared failed. Default 30s.
	StartTimeout time.Duration
	// StopGrace is how long a process has to exit after SIGTERM before it
	// is killed. Default 5s.
	StopGrace time.Duration
	// Host is the loopback address processes listen on. Default 127.0.0.1.
	Host string
}

// Process really runs a sandbox's argv as a host process. It is enabled
// only by an explicit server flag: it offers no isolation at all. The
// process gets the sandbox's environment, a minimal PATH and HOME, and PORT,
// a free loopback port; it is running once that port accepts connections.
type Process struct {
	opts ProcessOptions
}

// NewProcess returns a process runtime.
func NewProcess(opts ProcessOptions) *Process {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = 5 * time.Second
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	return &Process{opts: opts}
}

// Name implements Runtime.
func (p *Process) Name() string { return "process" }

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// Start implements Runtime. Errors and messages never include argv or
// environment values: they may hold secrets.
func (p *Process) Start(_ context.Context, spec Spec, report func(Event)) (Instance, error) {
	argv := spec.Sandbox.Process.Argv.Values
	if len(argv) == 0 {
		return nil, errors.New("process runtime: the sandbox has no argv to run")
	}
	port, err := freePort(p.opts.Host)
	if err != nil {
		return nil, fmt.Errorf("process runtime: allocating a port: %w", err)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, errors.New("process runtime: argv[0] was not found on the server's PATH")
	}
	// #nosec G204 -- running the configured argv is this runtime's purpose; it is opt-in.
	cmd := exec.Command(path, argv[1:]...)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	for k, v := range spec.Sandbox.Process.Environment.Values {
		env = append(env, k+"="+v)
	}
	env = append(env, "PORT="+strconv.Itoa(port), "NIMBUS_SANDBOX_ID="+spec.ID)
	cmd.Env = env
	cmd.Dir = os.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, errors.New("process runtime: the process could not be started")
	}
	inst := &procInstance{
		rt: p, cmd: cmd, report: report, exited: make(chan struct{}),
		addr: net.JoinHostPort(p.opts.Host, strconv.Itoa(port)),
	}
	go inst.wait()
	go inst.probe()
	return inst, nil
}

type procInstance struct {
	rt      *Process
	cmd     *exec.Cmd
	addr    string
	report  func(Event)
	exited  chan struct{}
	mu      sync.Mutex
	final   bool
	stopped bool
}

func (i *procInstance) emit(e Event, final bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.final {
		return
	}
	i.final = final
	i.report(e)
}

func (i *procInstance) wait() {
	err := i.cmd.Wait()
	i.mu.Lock()
	stopped := i.stopped
	i.mu.Unlock()
	close(i.exited)
	if stopped {
		i.emit(Event{State: api.SandboxStopped, Message: "stopped"}, true)
		return
	}
	code := i.cmd.ProcessState.ExitCode()
	msg := fmt.Sprintf("the process exited with code %d", code)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			msg = fmt.Sprintf("the process was killed by signal %s", ws.Signal())
		}
	} else if err == nil {
		msg = "the process exited with code 0 (a sandbox process is expected to keep running)"
	}
	i.emit(Event{State: api.SandboxFailed, ExitCode: &code, Message: msg}, true)
}

func (i *procInstance) probe() {
	deadline := time.Now().Add(i.rt.opts.StartTimeout)
	backoff := 10 * time.Millisecond
	for {
		select {
		case <-i.exited:
			return
		default:
		}
		c, err := net.DialTimeout("tcp", i.addr, time.Second)
		if err == nil {
			_ = c.Close()
			i.emit(Event{State: api.SandboxRunning, Message: "the process accepts connections on " + i.addr,
				Endpoints: []api.Endpoint{{Name: "http", URL: "http://" + i.addr}}}, false)
			return
		}
		if time.Now().After(deadline) {
			i.emit(Event{State: api.SandboxFailed, Message: fmt.Sprintf("the process did not accept connections on $PORT (%s) within %s", i.addr, i.rt.opts.StartTimeout)}, true)
			i.kill()
			return
		}
		select {
		case <-i.exited:
			return
		case <-time.After(backoff):
		}
		if backoff < 200*time.Millisecond {
			backoff *= 2
		}
	}
}

func (i *procInstance) kill() {
	// Negative pid: the whole process group.
	_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
}

// Stop implements Instance: SIGTERM to the process group, SIGKILL after the
// grace period.
func (i *procInstance) Stop(ctx context.Context) error {
	i.mu.Lock()
	i.stopped = true
	i.mu.Unlock()
	select {
	case <-i.exited:
		i.emit(Event{State: api.SandboxStopped, Message: "stopped"}, true)
		return nil
	default:
	}
	if err := syscall.Kill(-i.cmd.Process.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("process runtime: signalling the process: %w", err)
	}
	grace := time.NewTimer(i.rt.opts.StopGrace)
	defer grace.Stop()
	select {
	case <-i.exited:
		return nil
	case <-grace.C:
		i.kill()
	case <-ctx.Done():
		i.kill()
		return ctx.Err()
	}
	select {
	case <-i.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

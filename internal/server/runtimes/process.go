package runtimes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
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
// only by an explicit server flag: it offers no isolation at all.
//
// The process runs argv[0] (looked up on the server's PATH) with argv[1:],
// in its own process group, in the system temporary directory, with only
// this environment: PATH (the server's), HOME (the temporary directory), the
// sandbox's environment, NIMBUS_SANDBOX_ID, and PORT, a free port on Host
// that the process is expected to listen on. Its standard streams go to the
// null device: output may hold secrets and is never captured.
//
// An instance is running once Host:PORT accepts TCP connections, with the
// endpoint http://Host:PORT; it fails when it does not within StartTimeout,
// or when the process exits (the exit code, or 128+signal, is reported).
// Stop sends SIGTERM to the process group and SIGKILL after StopGrace.
// Messages name exit codes and signals, never argv or environment values.
type Process struct {
	opts ProcessOptions

	mu        sync.Mutex
	ports     map[int]bool
	instances map[*procInstance]struct{}
}

var _ Runtime = (*Process)(nil)

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
	return &Process{opts: opts, ports: map[int]bool{}, instances: map[*procInstance]struct{}{}}
}

// Name implements Runtime.
func (p *Process) Name() string { return "process" }

// allocPort finds a free port on Host that no live instance of this runtime
// holds, and reserves it.
func (p *Process) allocPort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(p.opts.Host, "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, err
		}
		p.mu.Lock()
		taken := p.ports[port]
		if !taken {
			p.ports[port] = true
		}
		p.mu.Unlock()
		if !taken {
			return port, nil
		}
	}
	return 0, errors.New("no free port found")
}

func (p *Process) release(i *procInstance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.ports, i.port)
	delete(p.instances, i)
}

// Start implements Runtime. Errors and messages never include argv or
// environment values: they may hold secrets.
func (p *Process) Start(_ context.Context, spec Spec, report func(Event)) (Instance, error) {
	argv := spec.Sandbox.Process.Argv.Values
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("process runtime: the sandbox has no argv to run; set process.argv to the command and its arguments")
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, errors.New("process runtime: argv[0] is not an executable file on the server's PATH")
	}
	// The process runs in another directory: pin a relative argv[0] to the
	// server's working directory, where it was found.
	if !filepath.IsAbs(path) {
		if path, err = filepath.Abs(path); err != nil {
			return nil, errors.New("process runtime: argv[0] could not be resolved to an absolute path")
		}
	}
	port, err := p.allocPort()
	if err != nil {
		return nil, fmt.Errorf("process runtime: allocating a port on %s: %w", p.opts.Host, err)
	}
	// #nosec G204 -- running the configured argv is this runtime's purpose; it is opt-in.
	cmd := exec.Command(path, argv[1:]...)
	hostPath := os.Getenv("PATH")
	if hostPath == "" {
		hostPath = "/usr/local/bin:/usr/bin:/bin"
	}
	env := []string{"PATH=" + hostPath, "HOME=" + os.TempDir()}
	for k, v := range spec.Sandbox.Process.Environment.Values {
		env = append(env, k+"="+v)
	}
	// Last: exec gives later duplicates precedence, so the sandbox cannot
	// override the port it must listen on.
	env = append(env, "NIMBUS_SANDBOX_ID="+spec.ID, "PORT="+strconv.Itoa(port))
	cmd.Env = env
	cmd.Dir = os.TempDir()
	prepareCommand(cmd)
	inst := &procInstance{
		rt: p, cmd: cmd, report: report, port: port,
		addr:   net.JoinHostPort(p.opts.Host, strconv.Itoa(port)),
		exited: make(chan struct{}), done: make(chan struct{}),
	}
	p.mu.Lock()
	p.instances[inst] = struct{}{}
	p.mu.Unlock()
	if err := cmd.Start(); err != nil {
		p.release(inst)
		// The underlying error names the path; say only what kind it was.
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("process runtime: the process could not be started: %w", pe.Err)
		}
		return nil, errors.New("process runtime: the process could not be started")
	}
	go inst.wait()
	go inst.probe()
	return inst, nil
}

// Close stops every process this runtime started, without reporting: the
// server calls it on shutdown, keeps its records of what was running, and
// launches those sandboxes again when it next starts. Processes get SIGTERM,
// then SIGKILL when ctx ends or StopGrace passes.
func (p *Process) Close(ctx context.Context) error {
	p.mu.Lock()
	insts := make([]*procInstance, 0, len(p.instances))
	for i := range p.instances {
		insts = append(insts, i)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(insts))
	for n, i := range insts {
		i.mu.Lock()
		i.detached = true
		i.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[n] = i.Stop(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

type procInstance struct {
	rt     *Process
	cmd    *exec.Cmd
	port   int
	addr   string
	report func(Event)
	// exited closes when the process has been reaped; done closes after
	// that, once the final event has been reported.
	exited chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	final    bool // a failed or stopped event was reported
	stopping bool // Stop was called: an exit is a stop, not a failure
	detached bool // Close was called: report nothing more
}

func (i *procInstance) emit(e Event, final bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.final || i.detached || (!final && i.stopping) {
		return
	}
	i.final = final
	i.report(e)
}

func (i *procInstance) wait() {
	defer close(i.done)
	waitErr := i.cmd.Wait()
	// Whatever the process left behind in its group goes with it.
	killGroup(i.cmd.Process)
	close(i.exited)
	i.rt.release(i)
	i.mu.Lock()
	stopping := i.stopping
	i.mu.Unlock()
	if stopping {
		i.emit(Event{State: api.SandboxStopped, Message: "stopped"}, true)
		return
	}
	code, msg := describeExit(i.cmd, waitErr)
	i.emit(Event{State: api.SandboxFailed, ExitCode: &code, Message: msg}, true)
}

// exitCodeMessage describes a process that exited by itself.
func exitCodeMessage(cmd *exec.Cmd, waitErr error) (int, string) {
	code := cmd.ProcessState.ExitCode()
	switch {
	case code == 0:
		return 0, "the process exited with code 0; a sandbox process must keep running and listen on $PORT"
	case code < 0 && waitErr != nil:
		return code, "the process ended abnormally"
	}
	return code, fmt.Sprintf("the process exited with code %d", code)
}

func (i *procInstance) probe() {
	deadline := time.Now().Add(i.rt.opts.StartTimeout)
	backoff := 10 * time.Millisecond
	for {
		c, err := net.DialTimeout("tcp", i.addr, time.Second)
		if err == nil {
			_ = c.Close()
			i.emit(Event{State: api.SandboxRunning, Message: "the process accepts connections on " + i.addr,
				Endpoints: []api.Endpoint{{Name: "http", URL: "http://" + i.addr}}}, false)
			return
		}
		if time.Now().After(deadline) {
			i.emit(Event{State: api.SandboxFailed, Message: fmt.Sprintf(
				"the process did not accept TCP connections on $PORT (%s) within %s; it must listen on the port in its PORT environment variable",
				i.addr, i.rt.opts.StartTimeout)}, true)
			killGroup(i.cmd.Process)
			return
		}
		t := time.NewTimer(backoff)
		select {
		case <-i.exited:
			t.Stop()
			return
		case <-t.C:
		}
		if backoff < 200*time.Millisecond {
			backoff *= 2
		}
	}
}

// Stop implements Instance: SIGTERM to the process group, SIGKILL after the
// grace period or when ctx ends.
func (i *procInstance) Stop(ctx context.Context) error {
	i.mu.Lock()
	i.stopping = true
	i.mu.Unlock()
	select {
	case <-i.exited:
		// Already gone: wait's final report is under way or done.
		<-i.done
		return nil
	default:
	}
	if err := terminateGroup(i.cmd.Process); err != nil {
		killGroup(i.cmd.Process)
	}
	grace := time.NewTimer(i.rt.opts.StopGrace)
	defer grace.Stop()
	select {
	case <-i.done:
		return nil
	case <-grace.C:
		killGroup(i.cmd.Process)
	case <-ctx.Done():
		killGroup(i.cmd.Process)
		// A killed process is reaped at once; give wait a moment to report.
		select {
		case <-i.done:
			return nil
		case <-time.After(time.Second):
			return ctx.Err()
		}
	}
	select {
	case <-i.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

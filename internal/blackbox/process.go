package blackbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// Process is one run of a command under test, its stderr read line by line.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited and status is set
	status error
}

// maxStderrLine is the longest stderr line a Process reads whole.
const maxStderrLine = 16 << 20

// StartProcess runs args[0] with the arguments after it. The process is
// killed if the test dies (Pdeathsig). From one goroutine, line is called
// with each line it writes to stderr, then exited with its exit status,
// before Exited is closed.
func StartProcess(args []string, line func(string), exited func(error)) (*Process, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // none outlives the test
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %v: %w", args, err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		defer close(p.exited)
		lines := bufio.NewScanner(stderr)
		lines.Buffer(make([]byte, 64<<10), maxStderrLine)
		for lines.Scan() {
			line(lines.Text())
		}
		p.status = cmd.Wait()
		exited(p.status)
	}()
	return p, nil
}

// Pid is the process's ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Status is the process's exit status, once Exited is closed.
func (p *Process) Status() error { return p.status }

// Signal sends sig to the process unless it has exited, and reports
// whether it sent it.
func (p *Process) Signal(sig syscall.Signal) bool {
	if !p.Running() {
		return false
	}
	p.cmd.Process.Signal(sig)
	return true
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.exited
}

// Stop ends the process with SIGTERM (after SIGCONT, should it be paused)
// and waits for it to exit; one still running after timeout is killed and
// reported.
func (p *Process) Stop(timeout time.Duration) error {
	p.Signal(syscall.SIGCONT)
	if !p.Signal(syscall.SIGTERM) {
		return nil
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
		p.Kill()
		return fmt.Errorf("it did not exit within %v of SIGTERM; killed it", timeout)
	}
}

// ErrExited is what WaitReady returns for a process that exited first.
var ErrExited = errors.New("it exited")

// WaitReady waits until ready is closed, and returns nil then. It returns
// ErrExited, with the exit status, should the process exit first; and
// kills it should ctx end or timeout pass first.
func (p *Process) WaitReady(ctx context.Context, ready <-chan struct{}, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-ready:
		return nil
	case <-p.exited:
		return fmt.Errorf("%w before it was ready (%v)", ErrExited, p.status)
	case <-ctx.Done():
		p.Kill()
		return ctx.Err()
	case <-timer.C:
		p.Kill()
		return fmt.Errorf("it was not ready within %v", timeout)
	}
}

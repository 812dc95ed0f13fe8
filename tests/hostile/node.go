package hostile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StartTimeout bounds how long a node may take to serve after it starts.
const StartTimeout = 60 * time.Second

// StopTimeout bounds how long a node may take to exit after SIGTERM.
const StopTimeout = 30 * time.Second

// maxLogBytes bounds the stderr a Node keeps, over all its runs; a node
// flooding its log under attack must not exhaust the test's memory.
const maxLogBytes = 64 << 20

// maxLineBytes bounds one kept stderr line.
const maxLineBytes = 4 << 10

var servingLine = regexp.MustCompile(`creek serving the Kafka protocol" addr=(\S+)`)

// NodeOptions says how to run a node.
type NodeOptions struct {
	// Bin is the creek binary.
	Bin string
	// Data is the node's data directory.
	Data string
	// AutoCreateTopics passes --auto-create-topics.
	AutoCreateTopics bool
	// Wrapper is a command and its arguments that creek runs under, which
	// must exec it in its own process (as `prlimit --nofile=N:N --` does);
	// empty runs creek directly.
	Wrapper []string
}

// Node is one single-node `creek serve` process on 127.0.0.1 with a port
// of its own choosing, restartable on its data directory.
type Node struct {
	opts NodeOptions

	mu      sync.Mutex
	addr    string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current process has exited
	status  error         // the current process's exit status, once exited
	lines   []string
	kept    int // bytes of lines
	dropped int // lines not kept past maxLogBytes
}

// StartNode starts a node with opts and waits until it serves Kafka.
func StartNode(ctx context.Context, opts NodeOptions) (*Node, error) {
	n := &Node{opts: opts}
	return n, n.Start(ctx)
}

// Args is the command line a start runs: the wrapper, creek and its flags.
func (n *Node) Args() []string {
	args := append([]string(nil), n.opts.Wrapper...)
	args = append(args, n.opts.Bin, "serve", "--listen", "127.0.0.1:0", "--data", n.opts.Data, "--log-level", "info")
	if n.opts.AutoCreateTopics {
		args = append(args, "--auto-create-topics")
	}
	return args
}

// Start runs the node's process and waits until it logs that it serves
// Kafka, at most StartTimeout.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.cmd != nil && !isClosed(n.exited) {
		n.mu.Unlock()
		return errors.New("node already running")
	}
	args := n.Args()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // none outlives the test
	stderr, err := cmd.StderrPipe()
	if err != nil {
		n.mu.Unlock()
		return err
	}
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		return fmt.Errorf("start %v: %w", args, err)
	}
	exited := make(chan struct{})
	n.cmd, n.exited, n.status, n.addr = cmd, exited, nil, ""
	n.mu.Unlock()

	serving := make(chan struct{})
	go func() {
		lines := bufio.NewScanner(stderr)
		lines.Buffer(make([]byte, 64<<10), 16<<20)
		ready := false
		for lines.Scan() {
			text := lines.Text()
			n.mu.Lock()
			n.keep(text)
			if m := servingLine.FindStringSubmatch(text); m != nil && !ready {
				n.addr, ready = m[1], true
				close(serving)
			}
			n.mu.Unlock()
		}
		status := cmd.Wait()
		n.mu.Lock()
		n.status = status
		n.mu.Unlock()
		close(exited)
	}()
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case <-serving:
		return nil
	case <-exited:
		return fmt.Errorf("creek exited before it served Kafka (%v); its log ends:\n%s", n.exitStatus(), n.Tail(20))
	case <-ctx.Done():
		n.Kill()
		return ctx.Err()
	case <-timer.C:
		n.Kill()
		return fmt.Errorf("creek did not serve Kafka within %v; its log ends:\n%s", StartTimeout, n.Tail(20))
	}
}

// keep stores one stderr line; n.mu is held.
func (n *Node) keep(text string) {
	if len(text) > maxLineBytes {
		text = text[:maxLineBytes] + "…"
	}
	if n.kept+len(text) > maxLogBytes {
		n.dropped++
		return
	}
	n.kept += len(text)
	n.lines = append(n.lines, text)
}

// Addr is the Kafka address the current process serves on.
func (n *Node) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// PID is the current process's ID, 0 before the first start.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Alive returns nil while the current process runs, and otherwise an error
// giving its exit status and the end of its log.
func (n *Node) Alive() error {
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	if exited == nil {
		return errors.New("creek was never started")
	}
	if !isClosed(exited) {
		return nil
	}
	return fmt.Errorf("creek is not running: it exited (%v); its log ends:\n%s", n.exitStatus(), n.Tail(20))
}

func (n *Node) exitStatus() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.status
}

// Lines returns every stderr line kept, over all runs.
func (n *Node) Lines() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.lines...)
}

// Tail returns the last k stderr lines kept, one to a line.
func (n *Node) Tail(k int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	from := max(0, len(n.lines)-k)
	return strings.Join(n.lines[from:], "\n")
}

// LogStats reports how many stderr lines were kept and dropped.
func (n *Node) LogStats() (kept, dropped int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.lines), n.dropped
}

// Grep returns the kept stderr lines containing any of substrs, compared
// without regard to case.
func (n *Node) Grep(substrs ...string) []string {
	var hits []string
	for _, line := range n.Lines() {
		low := strings.ToLower(line)
		for _, s := range substrs {
			if strings.Contains(low, strings.ToLower(s)) {
				hits = append(hits, line)
				break
			}
		}
	}
	return hits
}

// signal sends sig to the current process and returns the channel closed
// when it exits; nil when it is not running.
func (n *Node) signal(sig syscall.Signal) chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || isClosed(n.exited) {
		return nil
	}
	n.cmd.Process.Signal(sig)
	return n.exited
}

// Kill ends the current process with SIGKILL and waits for it.
func (n *Node) Kill() {
	if exited := n.signal(syscall.SIGKILL); exited != nil {
		<-exited
	}
}

// Stop ends the current process with SIGTERM and waits for it to exit; one
// still running after StopTimeout is killed and reported.
func (n *Node) Stop() error {
	exited := n.signal(syscall.SIGTERM)
	if exited == nil {
		return nil
	}
	timer := time.NewTimer(StopTimeout)
	defer timer.Stop()
	select {
	case <-exited:
		return nil
	case <-timer.C:
		n.Kill()
		return fmt.Errorf("creek did not exit within %v of SIGTERM; killed it", StopTimeout)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

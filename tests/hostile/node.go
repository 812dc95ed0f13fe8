package hostile

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/creekmq/creek/internal/blackbox"
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
	// Extra are more flags for creek serve.
	Extra []string
}

// Node is one single-node `creek serve` process on 127.0.0.1 with a port
// of its own choosing, restartable on its data directory.
type Node struct {
	opts NodeOptions

	mu      sync.Mutex
	addr    string
	proc    *blackbox.Process // the current process; nil before the first start
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
	return append(args, n.opts.Extra...)
}

// Start runs the node's process and waits until it logs that it serves
// Kafka, at most StartTimeout.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.proc != nil && n.proc.Running() {
		n.mu.Unlock()
		return errors.New("node already running")
	}
	n.addr = ""
	serving := make(chan struct{})
	proc, err := blackbox.StartProcess(n.Args(), func(text string) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.keep(text)
		if m := servingLine.FindStringSubmatch(text); m != nil && n.addr == "" {
			n.addr = m[1]
			close(serving)
		}
	}, func(error) {})
	if err == nil {
		n.proc = proc
	}
	n.mu.Unlock()
	if err != nil {
		return err
	}
	if err := proc.WaitReady(ctx, serving, StartTimeout); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("creek did not serve Kafka: %w; its log ends:\n%s", err, n.Tail(20))
	}
	return nil
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
	if n.proc == nil {
		return 0
	}
	return n.proc.Pid()
}

// Alive returns nil while the current process runs, and otherwise an error
// giving its exit status and the end of its log.
func (n *Node) Alive() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.proc == nil:
		return errors.New("creek was never started")
	case n.proc.Running():
		return nil
	}
	return fmt.Errorf("creek is not running: it exited (%v); its log ends:\n%s", n.proc.Status(), n.tailLocked(20))
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
	return n.tailLocked(k)
}

func (n *Node) tailLocked(k int) string {
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

// process is the current process, nil before the first start.
func (n *Node) process() *blackbox.Process {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc
}

// Kill ends the current process with SIGKILL and waits for it.
func (n *Node) Kill() {
	if p := n.process(); p != nil {
		p.Kill()
	}
}

// Stop ends the current process with SIGTERM and waits for it to exit; one
// still running after StopTimeout is killed and reported.
func (n *Node) Stop() error {
	p := n.process()
	if p == nil {
		return nil
	}
	if err := p.Stop(StopTimeout); err != nil {
		return fmt.Errorf("creek: %w", err)
	}
	return nil
}

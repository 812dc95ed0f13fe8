package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// LogLine is one line a node printed on stderr and when the harness read it.
type LogLine struct {
	At   time.Time
	Text string
}

var (
	servingLine = regexp.MustCompile(`creek serving the Kafka protocol" addr=(\S+)`)
	gossipLine  = regexp.MustCompile(`creek gossiping with its cluster" gossip=(\S+)`)
)

// startTimeout bounds how long a node may take to serve after it starts.
const startTimeout = 90 * time.Second

// stopTimeout bounds how long a node may take to exit after SIGTERM.
const stopTimeout = 30 * time.Second

// Node is one `creek serve` process of the cluster, restartable on its data
// directory at the Kafka and gossip addresses of its first start.
type Node struct {
	ID   int    // the node ID, 1..N
	Host string // its loopback address, 127.0.0.(10+ID)
	Data string // its data directory

	bin     string
	logPath string

	mu      sync.Mutex
	kafka   string // the bound Kafka address; Host:0 before the first start
	gossip  string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current process has exited
	running bool
	paused  bool
	starts  int
	lines   []LogLine
	logFile *os.File
}

// NewNode describes node id of a cluster whose files live under dir.
func NewNode(bin, dir string, id int) *Node {
	host := fmt.Sprintf("127.0.0.%d", 10+id)
	return &Node{
		ID: id, Host: host,
		Data:    filepath.Join(dir, fmt.Sprintf("node-%d", id)),
		logPath: filepath.Join(dir, fmt.Sprintf("node-%d.log", id)),
		bin:     bin,
		kafka:   host + ":0",
		gossip:  host + ":0",
	}
}

// KafkaAddr is the address the node serves Kafka on (known after a start).
func (n *Node) KafkaAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.kafka
}

// GossipAddr is the address the node gossips on (known after a start).
func (n *Node) GossipAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.gossip
}

// Running reports whether the node's process is alive (paused or not).
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.running
}

// Paused reports whether the node is stopped with SIGSTOP.
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused
}

// Lines returns every stderr line the node printed, over all its runs.
func (n *Node) Lines() []LogLine {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]LogLine(nil), n.lines...)
}

// LogPath is the file holding the node's stderr, for a human.
func (n *Node) LogPath() string { return n.logPath }

// Start runs the node with seeds (comma-separated gossip addresses, empty
// for none) and waits until it serves Kafka.
func (n *Node) Start(ctx context.Context, seeds string) error {
	n.mu.Lock()
	if n.running {
		n.mu.Unlock()
		return fmt.Errorf("node %d: already running", n.ID)
	}
	if n.logFile == nil {
		f, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			n.mu.Unlock()
			return err
		}
		n.logFile = f
	}
	n.starts++
	args := []string{"serve", "--listen", n.kafka, "--gossip", n.gossip, "--raft", n.Host + ":0",
		"--node-id", strconv.Itoa(n.ID), "--data", n.Data, "--log-level", "info"}
	if seeds != "" {
		args = append(args, "--seeds", seeds)
	}
	fmt.Fprintf(n.logFile, "--- faults harness: start #%d at %s: creek %v\n", n.starts, time.Now().Format(time.RFC3339Nano), args)
	cmd := exec.Command(n.bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // none outlives the harness
	stderr, err := cmd.StderrPipe()
	if err != nil {
		n.mu.Unlock()
		return err
	}
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		return fmt.Errorf("node %d: %w", n.ID, err)
	}
	n.cmd, n.running, n.paused = cmd, true, false
	exited := make(chan struct{})
	n.exited = exited
	n.mu.Unlock()

	serving := make(chan struct{})
	var status error
	go func() {
		defer close(exited)
		lines := bufio.NewScanner(stderr)
		lines.Buffer(make([]byte, 64<<10), 4<<20)
		gossiping, kafka, ready := false, false, false
		for lines.Scan() {
			text := lines.Text()
			n.mu.Lock()
			n.lines = append(n.lines, LogLine{At: time.Now(), Text: text})
			fmt.Fprintln(n.logFile, text)
			if m := gossipLine.FindStringSubmatch(text); m != nil {
				n.gossip, gossiping = m[1], true
			}
			if m := servingLine.FindStringSubmatch(text); m != nil {
				n.kafka, kafka = m[1], true
			}
			if gossiping && kafka && !ready {
				ready = true
				close(serving)
			}
			n.mu.Unlock()
		}
		status = cmd.Wait()
		n.mu.Lock()
		n.running, n.paused = false, false
		fmt.Fprintf(n.logFile, "--- faults harness: exited at %s: %v\n", time.Now().Format(time.RFC3339Nano), status)
		n.mu.Unlock()
	}()
	select {
	case <-serving:
		return nil
	case <-exited:
		return fmt.Errorf("node %d exited before it served Kafka (%v); see %s", n.ID, status, n.logPath)
	case <-ctx.Done():
		n.Kill()
		return ctx.Err()
	case <-time.After(startTimeout):
		n.Kill()
		return fmt.Errorf("node %d did not serve Kafka within %v; see %s", n.ID, startTimeout, n.logPath)
	}
}

// signal sends sig to the running process and returns the channel closed
// when it exits; nil if the node is not running.
func (n *Node) signal(sig syscall.Signal) chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.running {
		return nil
	}
	n.cmd.Process.Signal(sig)
	switch sig {
	case syscall.SIGSTOP:
		n.paused = true
	case syscall.SIGCONT:
		n.paused = false
	}
	return n.exited
}

// Kill ends the node with SIGKILL, as a crash would, and waits for it.
func (n *Node) Kill() {
	if exited := n.signal(syscall.SIGKILL); exited != nil {
		<-exited
	}
}

// Stop ends the node with SIGTERM and waits for it to exit; one still
// running after stopTimeout is killed and reported.
func (n *Node) Stop() error {
	n.signal(syscall.SIGCONT)
	exited := n.signal(syscall.SIGTERM)
	if exited == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	case <-time.After(stopTimeout):
		n.Kill()
		return fmt.Errorf("node %d did not exit within %v of SIGTERM; killed it", n.ID, stopTimeout)
	}
}

// Pause stops the node with SIGSTOP.
func (n *Node) Pause() error {
	if n.signal(syscall.SIGSTOP) == nil {
		return fmt.Errorf("node %d: not running", n.ID)
	}
	return nil
}

// Resume continues a paused node with SIGCONT.
func (n *Node) Resume() { n.signal(syscall.SIGCONT) }

// Close kills the node if it still runs and closes its log file.
func (n *Node) Close() error {
	n.Kill()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.logFile == nil {
		return nil
	}
	err := n.logFile.Close()
	n.logFile = nil
	return err
}

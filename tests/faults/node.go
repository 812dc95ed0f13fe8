package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/creekmq/creek/internal/blackbox"
)

// LogLine is one line a node printed on stderr and when the harness read it.
type LogLine struct {
	At   time.Time
	Text string
}

var (
	servingLine  = regexp.MustCompile(`creek serving the Kafka protocol" addr=(\S+)`)
	listenerLine = regexp.MustCompile(`creek listener" name=(\S+) protocol=\S+ addr=(\S+)`)
	gossipLine   = regexp.MustCompile(`creek gossiping with its cluster" gossip=(\S+)`)
)

// startTimeout bounds how long a node may take to serve after it starts.
const startTimeout = 90 * time.Second

// stopTimeout bounds how long a node may take to exit after SIGTERM.
const stopTimeout = 30 * time.Second

// Node is one `creek serve` process of the cluster, restartable on its data
// directory at the Kafka and gossip addresses of its first start. Under
// -security mtls it has two listeners, INTERNAL for the other nodes and
// CLIENTS, whose address is its Kafka address.
type Node struct {
	ID   int    // the node ID, 1..N
	Host string // its loopback address, 127.0.0.(10+ID)
	Data string // its data directory

	bin     string
	logPath string
	sec     *Security // nil: -security none

	mu       sync.Mutex
	kafka    string // the bound Kafka address (CLIENTS under mtls); Host:0 before the first start
	internal string // under mtls, the bound INTERNAL listener's address; Host:0 before the first start
	gossip   string
	proc     *blackbox.Process // the current process; nil before the first start
	paused   bool              // stopped with SIGSTOP, not continued since
	starts   int
	lines    []LogLine
	logFile  *os.File
}

// nodeHost is node id's loopback address.
func nodeHost(id int) string { return fmt.Sprintf("127.0.0.%d", 10+id) }

// NewNode describes node id of a cluster whose files live under dir, with
// the run's security (nil: none).
func NewNode(bin, dir string, id int, sec *Security) *Node {
	host := nodeHost(id)
	return &Node{
		ID: id, Host: host,
		Data:     filepath.Join(dir, fmt.Sprintf("node-%d", id)),
		logPath:  filepath.Join(dir, fmt.Sprintf("node-%d.log", id)),
		bin:      bin,
		sec:      sec,
		kafka:    host + ":0",
		internal: host + ":0",
		gossip:   host + ":0",
	}
}

// KafkaAddr is the address the node serves the harness's clients on, the
// CLIENTS listener's under mtls (known after a start).
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
	return n.runningLocked()
}

func (n *Node) runningLocked() bool { return n.proc != nil && n.proc.Running() }

// Paused reports whether the node is stopped with SIGSTOP.
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused && n.runningLocked()
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
	if n.runningLocked() {
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
	args := append([]string{n.bin, "serve"}, n.listenArgsLocked()...)
	args = append(args, "--gossip", n.gossip, "--raft", n.Host+":0",
		"--node-id", strconv.Itoa(n.ID), "--data", n.Data, "--log-level", "info")
	if seeds != "" {
		args = append(args, "--seeds", seeds)
	}
	fmt.Fprintf(n.logFile, "--- faults harness: start #%d at %s: creek %v\n", n.starts, time.Now().Format(time.RFC3339Nano), args[1:])
	serving := make(chan struct{})
	gossiping, kafka, ready := false, false, false
	proc, err := blackbox.StartProcess(args, func(text string) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.lines = append(n.lines, LogLine{At: time.Now(), Text: text})
		fmt.Fprintln(n.logFile, text)
		if m := gossipLine.FindStringSubmatch(text); m != nil {
			n.gossip, gossiping = m[1], true
		}
		if n.learnKafkaLocked(text) {
			kafka = true
		}
		if gossiping && kafka && !ready {
			ready = true
			close(serving)
		}
	}, func(status error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		fmt.Fprintf(n.logFile, "--- faults harness: exited at %s: %v\n", time.Now().Format(time.RFC3339Nano), status)
	})
	if err == nil {
		n.proc, n.paused = proc, false
	}
	n.mu.Unlock()
	if err != nil {
		return fmt.Errorf("node %d: %w", n.ID, err)
	}
	if err := proc.WaitReady(ctx, serving, startTimeout); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("node %d did not serve Kafka: %w; see %s", n.ID, err, n.logPath)
	}
	return nil
}

// listenArgsLocked are the flags of the node's Kafka listeners, at the
// addresses it bound before: --listen, or under mtls --listeners INTERNAL
// and CLIENTS and the security's flags.
func (n *Node) listenArgsLocked() []string {
	if n.sec == nil {
		return []string{"--listen", n.kafka}
	}
	listeners := fmt.Sprintf("%s://%s,%s://%s", listenerInternal, n.internal, listenerClients, n.kafka)
	return append([]string{"--listeners", listeners}, n.sec.ServeArgs(n.ID)...)
}

// learnKafkaLocked notes the addresses a stderr line says the node bound
// and reports whether it gave the Kafka address: the "creek serving the
// Kafka protocol" line's, or under mtls (where that line names the first
// listener, INTERNAL) the "creek listener" line of CLIENTS.
func (n *Node) learnKafkaLocked(text string) bool {
	if n.sec == nil {
		m := servingLine.FindStringSubmatch(text)
		if m != nil {
			n.kafka = m[1]
		}
		return m != nil
	}
	m := listenerLine.FindStringSubmatch(text)
	switch {
	case m == nil:
		return false
	case m[1] == listenerInternal:
		n.internal = m[2]
	case m[1] == listenerClients:
		n.kafka = m[2]
		return true
	}
	return false
}

// process is the current process, nil before the first start.
func (n *Node) process() *blackbox.Process {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc
}

// Kill ends the node with SIGKILL, as a crash would, and waits for it.
func (n *Node) Kill() {
	if p := n.process(); p != nil {
		p.Kill()
	}
}

// Stop ends the node with SIGTERM and waits for it to exit; one still
// running after stopTimeout is killed and reported.
func (n *Node) Stop() error {
	p := n.process()
	if p == nil {
		return nil
	}
	if err := p.Stop(stopTimeout); err != nil {
		return fmt.Errorf("node %d: %w", n.ID, err)
	}
	return nil
}

// Pause stops the node with SIGSTOP.
func (n *Node) Pause() error { return n.setPaused(syscall.SIGSTOP, true) }

// Resume continues a paused node with SIGCONT.
func (n *Node) Resume() { n.setPaused(syscall.SIGCONT, false) }

// setPaused sends sig, SIGSTOP or SIGCONT, and records whether the node is
// paused now.
func (n *Node) setPaused(sig syscall.Signal, paused bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil || !n.proc.Signal(sig) {
		return fmt.Errorf("node %d: not running", n.ID)
	}
	n.paused = paused
	return nil
}

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

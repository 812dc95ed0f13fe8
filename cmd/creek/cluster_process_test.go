package main

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// serveProcess is one `creek serve` process of a cluster, restartable at
// the addresses it first bound.
type serveProcess struct {
	t      *testing.T
	bin    string
	id     int
	dir    string
	listen string // host:port; port 0 until the first start bound one
	// listeners, when set, are its --listeners, NAME://host:port each, in
	// place of --listen: each port 0 until the first start bound one.
	listeners []string
	flags     []string // more flags of creek serve
	gossip    string
	seeds     string
	cmd       *exec.Cmd
	exited    chan struct{}

	mu   sync.Mutex
	logs []string // the process's stderr, every run, for a failing test to show
}

var (
	listenLine   = regexp.MustCompile(`creek serving the Kafka protocol" addr=(\S+)`)
	listenerLine = regexp.MustCompile(`creek listener" name=(\S+) protocol=\S+ addr=(\S+)`)
	gossipLine   = regexp.MustCompile(`creek gossiping with its cluster" gossip=(\S+)`)
)

// start runs the process and waits until it serves Kafka and gossips,
// learning the addresses it bound.
func (s *serveProcess) start() {
	s.t.Helper()
	args := []string{"serve", "--data", s.dir, "--node-id", strconv.Itoa(s.id), "--gossip", s.gossip, "--seeds", s.seeds,
		"--log-level", "debug"}
	if s.listeners != nil {
		args = append(args, "--listeners", strings.Join(s.listeners, ","))
	} else {
		args = append(args, "--listen", s.listen)
	}
	s.cmd = exec.Command(s.bin, append(args, s.flags...)...)
	stderr, err := s.cmd.StderrPipe()
	require.NoError(s.t, err)
	require.NoError(s.t, s.cmd.Start())
	ready := make(chan struct{})
	s.exited = make(chan struct{})
	go func() {
		defer close(s.exited)
		lines := bufio.NewScanner(stderr)
		signalled := false
		for lines.Scan() {
			s.mu.Lock()
			s.logs = append(s.logs, lines.Text())
			s.mu.Unlock()
			if m := listenLine.FindStringSubmatch(lines.Text()); m != nil {
				s.listen = m[1]
			}
			if m := listenerLine.FindStringSubmatch(lines.Text()); m != nil {
				s.bound(m[1], m[2])
			}
			if m := gossipLine.FindStringSubmatch(lines.Text()); m != nil && !signalled {
				s.gossip = m[1]
				signalled = true
				close(ready)
			}
		}
		s.cmd.Wait()
	}()
	select {
	case <-ready:
	case <-s.exited:
		s.t.Fatalf("creek serve (node %d) exited before it served", s.id)
	case <-time.After(time.Minute):
		s.t.Fatalf("creek serve (node %d) did not start", s.id)
	}
}

// bound notes the address the listener named got, for a restart.
func (s *serveProcess) bound(name, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range s.listeners {
		if strings.HasPrefix(l, name+"://") {
			s.listeners[i] = name + "://" + addr
		}
	}
}

// listenerAddr returns the address the listener named bound.
func (s *serveProcess) listenerAddr(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if addr, ok := strings.CutPrefix(l, name+"://"); ok {
			return addr
		}
	}
	return ""
}

// kill ends the process with SIGKILL, as a crash would.
func (s *serveProcess) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// stop ends the process with SIGTERM and waits for it; one that has not
// stopped after 30 s fails the test and is killed.
func (s *serveProcess) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.t.Errorf("creek serve (node %d) did not stop on SIGTERM", s.id)
		s.kill()
	}
}

// buildCreek builds the creek command for a test and returns its path.
func buildCreek(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "creek")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// startProcessCluster starts three `creek serve` processes on loopback,
// node id with the listeners and flags configure gives it (nil
// listeners: --listen), and stops them when the test ends, with their
// logs when it failed.
func startProcessCluster(t *testing.T, configure func(id int) (listeners, flags []string)) []*serveProcess {
	t.Helper()
	bin := buildCreek(t)
	var nodes []*serveProcess
	for id := 1; id <= 3; id++ {
		s := &serveProcess{t: t, bin: bin, id: id, dir: t.TempDir(), listen: "127.0.0.1:0", gossip: "127.0.0.1:0"}
		if configure != nil {
			s.listeners, s.flags = configure(id)
		}
		if id > 1 {
			s.seeds = nodes[0].gossip
		}
		s.start()
		nodes = append(nodes, s)
	}
	t.Cleanup(func() {
		for _, s := range nodes {
			if t.Failed() { // the goroutines of every process, into its log
				s.cmd.Process.Signal(syscall.SIGQUIT)
			}
			s.stop()
			if t.Failed() {
				s.mu.Lock()
				t.Logf("node %d's log:\n%s", s.id, strings.Join(s.logs, "\n"))
				s.mu.Unlock()
			}
		}
	})
	return nodes
}

// TestClusterProcessesSurviveSIGKILL: three `creek serve` processes on
// loopback; a franz-go producer writes with acks=all while one node is
// killed with SIGKILL and restarted; every acknowledged record is read
// back, and the restarted node rejoins every partition's ISR.
func TestClusterProcessesSurviveSIGKILL(t *testing.T) {
	nodes := startProcessCluster(t, nil)
	checkAckedSurviveSIGKILL(t, nodes, []string{nodes[0].listen, nodes[1].listen, nodes[2].listen})
}

// checkAckedSurviveSIGKILL: through clients of seeds with opts, a topic
// of three partitions on all three nodes takes acks=all writes while
// node 2 is killed with SIGKILL and restarted; every acknowledged record
// is read back, and node 2 rejoins every partition's ISR.
func checkAckedSurviveSIGKILL(t *testing.T, nodes []*serveProcess, seeds []string, opts ...kgo.Opt) {
	t.Helper()
	opts = slices.Clip(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)) // each client appends its own
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	admin, err := kgo.NewClient(opts...)
	require.NoError(t, err)
	defer admin.Close()
	adm := kadm.NewClient(admin)
	for { // until the controller has admitted all three
		resp, err := adm.CreateTopic(ctx, 3, 3, map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}, "orders")
		if err == nil && resp.Err == nil {
			break
		}
		require.NoError(t, ctx.Err(), "create the topic: %v %v", err, resp.Err)
		time.Sleep(100 * time.Millisecond) // across processes nothing announces the admission
	}

	producer, err := kgo.NewClient(append(opts, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DefaultProduceTopic("orders"))...)
	require.NoError(t, err)
	defer producer.Close()
	const records = 20_000
	var mu sync.Mutex
	acked := map[string]bool{}
	halfway := make(chan struct{})
	var once sync.Once
	for i := range records {
		value := strconv.Itoa(i)
		producer.Produce(ctx, &kgo.Record{Value: []byte(value)}, func(_ *kgo.Record, err error) {
			if err != nil {
				return // not acknowledged: it may or may not be stored
			}
			mu.Lock()
			acked[value] = true
			if len(acked) == records/4 {
				once.Do(func() { close(halfway) })
			}
			mu.Unlock()
		})
		if i == records/2 {
			<-halfway
			nodes[1].kill() // mid-load, acks=all writes in flight
		}
	}
	require.NoError(t, producer.Flush(ctx))
	nodes[1].start() // at the addresses it had, with its data
	assert.Greater(t, len(acked), records/2, "most writes were acknowledged")

	for { // until node 2 is back in every partition's ISR
		topics, err := adm.ListTopics(ctx, "orders")
		inSync := err == nil && len(topics["orders"].Partitions) == 3
		if inSync {
			for _, p := range topics["orders"].Partitions {
				inSync = inSync && len(p.ISR) == 3
			}
		}
		if inSync {
			break
		}
		require.NoError(t, ctx.Err(), "node 2 did not rejoin the ISR")
		time.Sleep(100 * time.Millisecond) // another process's ISR is seen only by asking
	}

	consumer, err := kgo.NewClient(append(opts, kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	require.NoError(t, err)
	defer consumer.Close()
	read := map[string]bool{}
	for missing := len(acked); missing > 0; {
		fetches := consumer.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "%d acknowledged records not read", missing)
		fetches.EachRecord(func(r *kgo.Record) {
			if v := string(r.Value); acked[v] && !read[v] {
				read[v] = true
				missing--
			}
		})
	}
	t.Logf("%d of %d records acknowledged, all read back", len(acked), records)
}

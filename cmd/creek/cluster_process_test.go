package main

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
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
	gossip string
	seeds  string
	cmd    *exec.Cmd
	exited chan struct{}

	mu   sync.Mutex
	logs []string // the process's stderr, every run, for a failing test to show
}

var (
	listenLine = regexp.MustCompile(`creek serving the Kafka protocol" addr=(\S+)`)
	gossipLine = regexp.MustCompile(`creek gossiping with its cluster" gossip=(\S+)`)
)

// start runs the process and waits until it serves Kafka and gossips,
// learning the addresses it bound.
func (s *serveProcess) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "serve", "--data", s.dir, "--listen", s.listen, "--node-id", strconv.Itoa(s.id),
		"--gossip", s.gossip, "--seeds", s.seeds, "--log-level", "debug")
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

// TestClusterProcessesSurviveSIGKILL: three `creek serve` processes on
// loopback; a franz-go producer writes with acks=all while one node is
// killed with SIGKILL and restarted; every acknowledged record is read
// back, and the restarted node rejoins every partition's ISR.
func TestClusterProcessesSurviveSIGKILL(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "creek")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	var nodes []*serveProcess
	for id := 1; id <= 3; id++ {
		s := &serveProcess{t: t, bin: bin, id: id, dir: t.TempDir(), listen: "127.0.0.1:0", gossip: "127.0.0.1:0"}
		if id > 1 {
			s.seeds = nodes[0].gossip
		}
		s.start()
		nodes = append(nodes, s)
	}
	defer func() {
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
	}()
	seeds := []string{nodes[0].listen, nodes[1].listen, nodes[2].listen}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	admin, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
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

	producer, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.DefaultProduceTopic("orders"))
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

	consumer, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
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

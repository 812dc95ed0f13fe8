package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// finalReadTimeout bounds the read through Kafka of a cluster that did not
// settle.
const finalReadTimeout = 30 * time.Second

// rounds runs the nemesis's rounds as the options say, then heals the
// cluster, and returns how many rounds ran; fail gets each error.
func (r *Run) rounds(ctx context.Context, c *Cluster, nemesis *Nemesis, ev *Events, fail func(error)) int {
	ran := 0
	start := time.Now()
	for i := 1; r.Opts.moreRounds(i, time.Since(start)); i++ {
		if err := nemesis.Round(ctx, i); err != nil {
			fail(err)
			break
		}
		ran = i
	}
	ev.Printf("healing everything")
	if err := c.HealAll(ctx); err != nil {
		fail(err)
	}
	return ran
}

// snapshotTimeout bounds asking the cluster for log starts before a stop.
const snapshotTimeout = 2 * time.Second

// Run is one seed's run of the harness.
type Run struct {
	Opts Options
	Seed uint64
	Bin  string   // the creek binary
	Net  *Network // cuts
	Out  io.Writer

	mu        sync.Mutex
	snapshots map[int][]NodeSnapshot // per node, in time order
}

// RunSeed runs one seed in its own directory and prints its events and
// its result line to out; the directory is removed if the run passed,
// unless opts.Keep.
func RunSeed(ctx context.Context, opts Options, seed uint64, bin string, net *Network, out io.Writer) Result {
	r := &Run{Opts: opts, Seed: seed, Bin: bin, Net: net, Out: out, snapshots: map[int][]NodeSnapshot{}}
	var dir string
	var err error
	if opts.Dir == "" {
		dir, err = os.MkdirTemp("", fmt.Sprintf("creek-faults-%d-", seed))
	} else {
		dir = filepath.Join(opts.Dir, fmt.Sprintf("seed-%d", seed))
		if err = os.RemoveAll(dir); err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
	}
	res := Result{Workload: opts.Workload, Seed: seed, Nodes: opts.Nodes, Rounds: opts.Rounds, Dir: dir, Anomalies: map[string][]Anomaly{}}
	switch {
	case err != nil:
		res.Errors = append(res.Errors, err.Error())
	case opts.Workload == WorkloadTxn:
		res = r.runTxn(ctx, dir)
	default:
		res = r.run(ctx, dir)
	}
	fmt.Fprintln(out, res.Line())
	if res.Failed() {
		res.PrintDetails(out)
	} else if !opts.Keep {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintf(out, "  run directory kept: %s\n", dir)
	}
	return res
}

// run does the steps of one seed in dir.
func (r *Run) run(ctx context.Context, dir string) Result {
	o := r.Opts
	ev := NewEvents(r.Out)
	res := Result{Seed: r.Seed, Nodes: o.Nodes, Dir: dir, Anomalies: map[string][]Anomaly{}}
	fail := func(err error) { res.Errors = append(res.Errors, err.Error()); ev.Printf("error: %v", err) }
	ev.Printf("seed=%d nodes=%d rounds=%d partitions=%d rate=%d faults=%s dir=%s",
		r.Seed, o.Nodes, o.Rounds, o.Partitions, o.Rate, strings.Join(o.Faults, ","), dir)
	if r.Net.Unavailable != "" {
		ev.Printf("cuts unavailable: %s", r.Net.Unavailable)
	}

	c, err := StartCluster(ctx, r.Bin, dir, o.Nodes, o.Security, r.Net, ev)
	defer c.Close()
	for _, n := range c.Nodes {
		res.Logs = append(res.Logs, n.LogPath())
	}
	if err != nil {
		fail(err)
		return res
	}
	if err := CreateTopic(ctx, c, o.Partitions); err != nil {
		fail(err)
		return res
	}
	ev.Printf("topic %s: %d partitions, every one led", Topic, o.Partitions)

	w, err := StartWorkload(c.Clients(), r.Seed, o.Partitions, o.Rate, ev)
	if err != nil {
		fail(err)
		return res
	}
	nemesis := NewNemesis(r.Seed, c, o.Faults, ev, func(n *Node, label string) { r.snapshot(ctx, c, n, label, nil) })
	res.Rounds = r.rounds(ctx, c, nemesis, ev, fail)
	w.StopProducing()
	ev.Printf("settling (up to %v)", o.Settle)
	read, assignment, err := Settle(ctx, c, o.Partitions, o.Settle)
	res.Settled = err == nil
	w.StopConsuming()
	if res.Settled {
		ev.Printf("settled")
	} else {
		ev.Printf("not settled: %v", err)
		rctx, cancel := context.WithTimeout(ctx, finalReadTimeout)
		read, err = ReadThroughKafka(rctx, c.Clients(), o.Partitions)
		cancel()
		if err != nil {
			ev.Printf("final read through Kafka incomplete: %v", err)
		}
	}
	total := 0
	for _, recs := range read.Records {
		total += len(recs)
	}
	ev.Printf("read %d records through Kafka; high watermarks %v", total, read.HighWatermarks)
	if len(read.Incomplete) > 0 {
		ev.Printf("partitions not read to their high watermark (partition: offset reached): %v; acks and consumed offsets from there are not judged", read.Incomplete)
	}

	ev.Printf("stopping every node")
	if err := c.StopAll(); err != nil {
		fail(err)
	}
	replicas := map[int]map[int32][]Record{}
	for _, n := range c.Nodes {
		r.snapshot(ctx, nil, n, "the end", read.LogStarts)
		files, err := ReadNodeFiles(n.Data)
		if err != nil {
			fail(fmt.Errorf("node %d's files: %w", n.ID, err))
			continue
		}
		replicas[n.ID] = files.Partitions
		held := 0
		for _, recs := range files.Partitions {
			held += len(recs)
		}
		ev.Printf("node %d's files: %d records in %d partition directories, %d stray directories", n.ID, held, len(files.Partitions), files.StrayDirs)
		res.StrayDirs += files.StrayDirs
		for _, t := range files.Tails {
			ev.Printf("node %d: segment tail: %s", n.ID, t)
		}
		if f := MaxFlood(n.ID, n.Lines()); f.Count > res.Flood.Count {
			res.Flood = f
		}
	}

	if res.Flood.Count > 0 {
		ev.Printf("worst log burst: node %d printed %q %d times within a second", res.Flood.Node, res.Flood.Msg, res.Flood.Count)
	}
	acks := w.Acks()
	res.Acked = len(acks)
	for _, a := range acks {
		if !judged(read.Incomplete, a.Position) {
			res.Unjudged++
		}
	}
	if res.Unjudged > 0 {
		ev.Printf("%d acknowledged records are in parts of partitions the final read did not reach: not judged", res.Unjudged)
	}
	res.Anomalies = Check(Observations{
		Acks: acks, Read: read.Records, HighWatermarks: read.HighWatermarks,
		Replicas: replicas, Assignment: assignment,
		ConsumerSeen: w.Seen(), ConsumerChanged: w.Changed(),
		Recreated: r.recreated(), Incomplete: read.Incomplete,
	})
	return res
}

// snapshot records node n's files' identity; with c, it first asks the
// cluster for the log starts.
func (r *Run) snapshot(ctx context.Context, c *Cluster, n *Node, label string, logStarts map[int32]int64) {
	if c != nil {
		sctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
		if starts, err := c.Admin().ListStartOffsets(sctx, Topic); err == nil {
			logStarts = map[int32]int64{}
			starts.Each(func(o kadm.ListedOffset) { logStarts[o.Partition] = o.Offset })
		}
		cancel()
	}
	s, err := SnapshotNode(n.Data, label, logStarts)
	if err != nil {
		fmt.Fprintf(r.Out, "snapshot of node %d's files: %v\n", n.ID, err)
		return
	}
	r.mu.Lock()
	r.snapshots[n.ID] = append(r.snapshots[n.ID], s)
	r.mu.Unlock()
}

// recreated compares each node's consecutive snapshots.
func (r *Run) recreated() []Anomaly {
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []Anomaly
	for _, id := range sortedKeys(r.snapshots) {
		s := r.snapshots[id]
		for i := 1; i < len(s); i++ {
			found = append(found, CompareSnapshots(id, s[i-1], s[i])...)
		}
	}
	return found
}

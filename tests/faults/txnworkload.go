package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The transactional workload's topics, group and transactional IDs.
const (
	TxnIn    = "txn-in"           // the input the filler writes and the pipeline reads
	TxnOut   = "txn-out"          // the output the pipeline writes in transactions
	TxnGroup = "creek-faults-txn" // the pipeline workers' consumer group
)

// txnWorkers is how many pipeline workers share the input.
const txnWorkers = 2

// txnID is the transactional ID of pipeline worker w (1-based).
func txnID(w int) string { return fmt.Sprintf("creek-faults-txn-w%d", w) }

// TxnIDs lists the pipeline workers' transactional IDs.
func TxnIDs() []string {
	ids := make([]string, txnWorkers)
	for w := range ids {
		ids[w] = txnID(w + 1)
	}
	return ids
}

// TxnWorkload is the transactional read-process-write workload: a filler
// that writes uniquely numbered records to TxnIn (idempotent, acks=all),
// pipeline workers that turn each into one record of TxnOut in
// transactions, and a read_committed reader of TxnOut that remembers
// what it saw where.
type TxnWorkload struct {
	ev *Events

	filler *pacedProducer
	reader *kgo.Client

	stopWorkers chan struct{}
	workers     sync.WaitGroup
	stopReading context.CancelFunc
	read        chan struct{}

	mu         sync.Mutex
	liveSeen   map[Position]string
	liveNext   map[int32]int64 // the offset after the last record the reader saw, per partition
	stats      []*workerStats
	workerErrs map[string]int  // errors that made a worker start a new session
	outcomes   map[string]bool // transaction → End reported it committed (true) or aborted
	stopOnce   sync.Once
}

// workerStats counts one pipeline worker's transactions.
type workerStats struct {
	begun, committed, aborted, sessions int
	endErrors                           int // ends that returned an error
	slow                                int // transactions that took txnSlow or longer
	longest                             time.Duration
}

// StartTxnWorkload connects the filler, the workers and the reader with
// cc and starts them; the topics exist. Worker k logs franz-go's
// info lines to worker-k.log in dir.
func StartTxnWorkload(cc ClientConfig, dir string, partitions, rate int, ev *Events) (*TxnWorkload, error) {
	w := &TxnWorkload{ev: ev,
		stopWorkers: make(chan struct{}),
		read:        make(chan struct{}), liveSeen: map[Position]string{},
		liveNext: map[int32]int64{}, workerErrs: map[string]int{}, outcomes: map[string]bool{}}
	var err error
	// The filler writes "in-<n>" round-robin over TxnIn's partitions.
	w.filler, err = startPacedProducer(cc, "filler", TxnIn, partitions, rate, inputValue)
	if err != nil {
		return nil, err
	}
	offsets := map[int32]kgo.Offset{}
	for p := range partitions {
		offsets[int32(p)] = kgo.NewOffset().AtStart()
	}
	w.reader, err = kgo.NewClient(cc.Opts(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{TxnOut: offsets}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())...)
	if err != nil {
		w.filler.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stopReading = cancel
	go w.readLive(ctx)
	for i := 1; i <= txnWorkers; i++ {
		log, err := os.Create(filepath.Join(dir, fmt.Sprintf("worker-%d.log", i)))
		if err != nil {
			w.StopWorkers()
			w.StopFilling()
			w.StopReading()
			return nil, err
		}
		s := &workerStats{}
		w.stats = append(w.stats, s)
		wk := &txnWorker{id: i, clients: cc, w: w, stats: s, log: log}
		w.workers.Go(wk.run)
	}
	return w, nil
}

// readLive reads TxnOut with read_committed until ctx ends, noting the
// value it saw at each position.
func (w *TxnWorkload) readLive(ctx context.Context) {
	defer close(w.read)
	for {
		fetches := w.reader.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset >= w.liveNext[r.Partition] {
				w.liveNext[r.Partition] = r.Offset + 1
			}
			if r.Attrs.IsControl() {
				return
			}
			// A position seen twice (the client fetched it again) keeps
			// its first value; the check compares that with the final read.
			pos := Position{Partition: r.Partition, Offset: r.Offset}
			if _, ok := w.liveSeen[pos]; !ok {
				w.liveSeen[pos] = string(r.Value)
			}
		})
		w.mu.Unlock()
	}
}

// StopFilling ends the filler as the records workload's StopProducing
// ends its producer, and prints what it wrote.
func (w *TxnWorkload) StopFilling() { w.filler.Stop(w.ev) }

// StopWorkers asks every worker to end its transaction and leave, waits
// for them, and prints what they did; a second call does nothing.
func (w *TxnWorkload) StopWorkers() {
	w.stopOnce.Do(w.stopWorkersOnce)
}

func (w *TxnWorkload) stopWorkersOnce() {
	close(w.stopWorkers)
	w.workers.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, s := range w.stats {
		w.ev.Printf("worker %d: %d transactions begun, %d committed, %d aborted, %d ends failed, %d sessions; %d took %v or longer, the longest %v",
			i+1, s.begun, s.committed, s.aborted, s.endErrors, s.sessions, s.slow, txnSlow, s.longest.Round(time.Millisecond))
	}
	printCounts(w.ev, "workers: %d times a new session after: %s", w.workerErrs)
}

// StopReading ends the live reader and closes its client.
func (w *TxnWorkload) StopReading() {
	w.stopReading()
	<-w.read
	w.reader.Close()
}

// LiveReached reports whether the live reader has passed every offset
// below ends.
func (w *TxnWorkload) LiveReached(ends map[int32]int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for p, end := range ends {
		if w.liveNext[p] < end {
			return false
		}
	}
	return true
}

// Acks returns every acknowledged input record.
func (w *TxnWorkload) Acks() []Ack { return w.filler.Acks() }

// LiveSeen returns the value the live reader saw at each position.
func (w *TxnWorkload) LiveSeen() map[Position]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := make(map[Position]string, len(w.liveSeen))
	for k, v := range w.liveSeen {
		seen[k] = v
	}
	return seen
}

// Slow returns how many transactions took txnSlow or longer.
func (w *TxnWorkload) Slow() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, s := range w.stats {
		n += s.slow
	}
	return n
}

// Outcomes returns what End reported of each transaction whose End
// returned no error: committed (true) or aborted.
func (w *TxnWorkload) Outcomes() map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.outcomes)
}

// printCounts prints one line per reason, in order, with format taking
// the count and the reason.
func printCounts(ev *Events, format string, counts map[string]int) {
	reasons := make([]string, 0, len(counts))
	for r := range counts {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		ev.Printf(format, counts[r], r)
	}
}

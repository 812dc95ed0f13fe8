package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Fault names, as -faults lists them.
const (
	FaultKill9    = "kill9"
	FaultKill9Two = "kill9-two"
	FaultRolling  = "rolling"
	FaultPause    = "pause"
	FaultCut      = "cut"
)

// Workload names, as -workload lists them.
const (
	WorkloadRecords = "records" // an idempotent producer and a consumer on one topic
	WorkloadTxn     = "txn"     // a transactional read-process-write pipeline
)

// AllFaults is every fault the nemesis knows, the default of -faults.
var AllFaults = []string{FaultKill9, FaultKill9Two, FaultRolling, FaultPause, FaultCut}

// Options configure a harness run; the command's flags set them.
type Options struct {
	Workload   string        // WorkloadRecords or WorkloadTxn
	Security   string        // SecurityNone or SecurityMTLS
	Seed       uint64        // the first seed
	Seeds      int           // how many consecutive seeds to run
	Rounds     int           // nemesis rounds per seed
	Duration   time.Duration // if set, rounds go on until it has passed, however many Rounds says
	Nodes      int           // cluster size, 3 or 5
	Partitions int           // partitions of the topic
	Rate       int           // records per second the producer aims at
	Faults     []string      // the faults the nemesis picks from
	Settle     time.Duration // how long the healed cluster may take to settle
	Dir        string        // where runs keep their data; empty: a temporary directory
	Keep       bool          // keep the run directory even when the run passes
	Creek      string        // a creek binary to run instead of building this checkout's
}

// ParseOptions reads the command line into Options.
func ParseOptions(args []string, now time.Time) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	fs.StringVar(&o.Workload, "workload", WorkloadRecords, "what runs under the nemesis: records (produce and consume one topic) or txn (a transactional read-process-write pipeline)")
	fs.StringVar(&o.Security, "security", SecurityNone, "how nodes and clients connect: none (plaintext) or mtls (nodes over mTLS with their own certificates, clients SASL_SSL with SCRAM-SHA-512)")
	fs.Uint64Var(&o.Seed, "seed", uint64(now.UnixNano()), "seed of the first run (default: time-based)")
	fs.IntVar(&o.Seeds, "seeds", 1, "run this many consecutive seeds")
	fs.IntVar(&o.Rounds, "rounds", 10, "nemesis rounds per seed")
	fs.DurationVar(&o.Duration, "duration", 0, "run rounds for this long per seed instead of -rounds (e.g. 5m)")
	fs.IntVar(&o.Nodes, "nodes", 3, "nodes in the cluster: 3 or 5")
	fs.IntVar(&o.Partitions, "partitions", 6, "partitions of the topic")
	fs.IntVar(&o.Rate, "rate", 2000, "records per second to produce")
	faults := fs.String("faults", strings.Join(AllFaults, ","), "comma-separated faults to use")
	fs.DurationVar(&o.Settle, "settle", 60*time.Second, "how long the healed cluster may take to settle")
	fs.StringVar(&o.Dir, "dir", "", "directory for the runs' data and logs (default: a temporary one)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the run directory even when the run passes")
	fs.StringVar(&o.Creek, "creek", "", "run this creek binary instead of building this checkout's (e.g. an older commit's)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.Faults = strings.Split(*faults, ",")
	return o, o.Validate()
}

// Validate reports an option out of range.
func (o Options) Validate() error {
	switch {
	case o.Workload != WorkloadRecords && o.Workload != WorkloadTxn:
		return fmt.Errorf("-workload %q: %s or %s", o.Workload, WorkloadRecords, WorkloadTxn)
	case !slices.Contains(SecurityModes, o.Security):
		return fmt.Errorf("-security %q: %s", o.Security, strings.Join(SecurityModes, " or "))
	case o.Nodes != 3 && o.Nodes != 5:
		return fmt.Errorf("-nodes %d: 3 or 5", o.Nodes)
	case o.Seeds < 1:
		return fmt.Errorf("-seeds %d: at least 1", o.Seeds)
	case o.Duration < 0:
		return fmt.Errorf("-duration %v: not negative", o.Duration)
	case o.Rounds < 0:
		return fmt.Errorf("-rounds %d: not negative", o.Rounds)
	case o.Partitions < 1:
		return fmt.Errorf("-partitions %d: at least 1", o.Partitions)
	case o.Rate < 1:
		return fmt.Errorf("-rate %d: at least 1", o.Rate)
	case o.Settle <= 0:
		return fmt.Errorf("-settle %v: positive", o.Settle)
	case len(o.Faults) == 0:
		return fmt.Errorf("-faults: none")
	}
	for _, f := range o.Faults {
		if !slices.Contains(AllFaults, f) {
			return fmt.Errorf("-faults: unknown fault %q (known: %s)", f, strings.Join(AllFaults, ","))
		}
	}
	return nil
}

// moreRounds reports whether the nemesis runs round i, after elapsed since
// the first: until Duration has passed when it is set, else Rounds rounds.
func (o Options) moreRounds(i int, elapsed time.Duration) bool {
	if o.Duration > 0 {
		return elapsed < o.Duration
	}
	return i <= o.Rounds
}

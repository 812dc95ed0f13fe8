package creek

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

const nodeCrashChildEnv = "CREEK_NODE_CRASH_CHILD_DIR"

// nodeCrashChild opens a node in $CREEK_NODE_CRASH_CHILD_DIR and produces
// numbered records with an idempotent producer until killed, printing
// "partition offset value" for each acknowledged one.
func nodeCrashChild() {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "node crash child:", err)
		os.Exit(2)
	}
	n, err := Open(Config{Dir: os.Getenv(nodeCrashChildEnv), Logger: discardLogger()})
	if err != nil {
		fail(err)
	}
	if err := n.CreateTopic(ctx, "crash", TopicSpec{Partitions: 3}); err != nil && !errors.Is(err, ErrTopicExists) {
		fail(err)
	}
	p, err := n.NewProducer(ProducerConfig{})
	if err != nil {
		fail(err)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		r := &Record{Topic: "crash", Key: []byte(strconv.Itoa(i % 7)), Value: []byte(fmt.Sprintf("%d-%d", os.Getpid(), i))}
		if err := p.Produce(ctx, r); err != nil {
			fail(err)
		}
		fmt.Fprintf(out, "%d %d %s\n", r.Partition, r.Offset, r.Value)
		if err := out.Flush(); err != nil {
			fail(err)
		}
	}
}

// TestNodeCrashRecovery SIGKILLs a process whose node produces with an fsync
// before every acknowledgement, reopens the node each time, and checks that
// every acknowledged record is at its offset: the registry, the logs and
// the producer state (rebuilt from the log, as a killed node saves no
// snapshot) all survive.
func TestNodeCrashRecovery(t *testing.T) {
	rng := crashRNG(t, 1)
	dir := t.TempDir()
	acked := map[TopicPartition]map[int64]string{}
	record := func(line string) {
		var part int32
		var offset int64
		var value string
		_, err := fmt.Sscanf(line, "%d %d %s", &part, &offset, &value)
		require.NoError(t, err, "child printed %q", line)
		tp := TopicPartition{"crash", part}
		if acked[tp] == nil {
			acked[tp] = map[int64]string{}
		}
		acked[tp][offset] = value
	}
	trials := max(*crashTrials/5, 3)
	for trial := range trials {
		killedChild(t, nodeCrashChildEnv, dir, rng.IntN(100), record)

		n, err := Open(Config{Dir: dir, Logger: discardLogger()})
		require.NoError(t, err, "trial %d", trial)
		for tp, want := range acked {
			c, err := n.NewConsumer(ConsumerConfig{})
			require.NoError(t, err)
			c.Seek(tp, 0)
			got := map[int64]string{}
			for lag, _ := c.Lag(t.Context(), tp); lag > 0; lag, _ = c.Lag(t.Context(), tp) {
				polled, err := c.Poll(t.Context())
				require.NoError(t, err)
				for _, pr := range polled {
					for _, r := range pr.Records {
						got[r.Offset] = string(r.Value)
					}
				}
			}
			for offset, value := range want {
				require.Equal(t, value, got[offset], "trial %d: acknowledged record %s-%d@%d", trial, tp.Topic, tp.Partition, offset)
			}
			require.NoError(t, c.Close())
		}
		require.NoError(t, n.Close())
	}
	var total int
	for _, m := range acked {
		total += len(m)
	}
	t.Logf("%d kills, %d acknowledged records, all found", trials, total)
}

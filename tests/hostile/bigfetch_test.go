package hostile

import (
	"context"
	"errors"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The big-fetch case: a partition of bigFetchBytes, fetched by
// bigFetchConns connections at once asking for all of it.
const (
	bigFetchTopic  = "big"
	bigFetchBytes  = 256 * MiB
	bigFetchRecord = 100_000 // bytes of one record's value
	bigFetchConns  = 8
	bigFetchWait   = time.Minute
)

// TestConcurrentHugeFetches: 8 Fetch requests at once, on separate
// connections, each with MaxBytes and partition max bytes 2^31-1, against
// a partition holding 256 MiB. The node's RSS stays under the bound.
func TestConcurrentHugeFetches(t *testing.T) {
	c := startCase(t, caseOptions{})
	conn := c.dial()
	if code, err := CreateTopic(conn, bigFetchTopic, 1, nil); err != nil || code != 0 {
		t.Fatalf("create topic %s: code %d, %v", bigFetchTopic, code, err)
	}
	value := make([]byte, bigFetchRecord)
	for i := range value {
		value[i] = byte(i * 7)
	}
	values := make([][]byte, bigFetchBytes/bigFetchRecord)
	for i := range values {
		values[i] = value
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	_, err := ProduceValues(ctx, c.node.Addr(), bigFetchTopic, 0, values, kgo.ProducerBatchMaxBytes(1_000_000), kgo.MaxBufferedBytes(64*MiB))
	cancel()
	if err != nil {
		t.Fatalf("produce %d MiB to %s: %v", bigFetchBytes/MiB, bigFetchTopic, err)
	}
	end := c.latestOf(conn, bigFetchTopic)
	peak, _ := PeakRSS(c.node.PID())
	t.Logf("produced %d records (%d MiB) to %s in %v, log end offset %d; creek peak RSS so far %.1f MiB",
		len(values), bigFetchBytes/MiB, bigFetchTopic, time.Since(start).Round(time.Millisecond), end, float64(peak)/MiB)

	sizes := make([]int64, bigFetchConns)
	errs := make([]error, bigFetchConns)
	fetchers := make([]*RawConn, bigFetchConns)
	for i := range fetchers {
		fetchers[i] = c.dial()
	}
	var wg sync.WaitGroup
	start = time.Now()
	for i, fc := range fetchers {
		wg.Go(func() {
			fc.SetDeadline(time.Now().Add(bigFetchWait))
			if _, err := fc.Send(NewFetch(bigFetchTopic, 0, 0, math.MaxInt32)); err != nil {
				errs[i] = err
				return
			}
			sizes[i], _, errs[i] = fc.SkipFrame()
		})
	}
	wg.Wait()
	t.Logf("%d concurrent fetches took %v; response sizes %v", bigFetchConns, time.Since(start).Round(time.Millisecond), sizes)
	for i, err := range errs {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("fetch %d: no response within %v", i, bigFetchWait)
		} else if err != nil {
			t.Logf("fetch %d: %v", i, err)
		}
	}
	c.afterChecks(peakRSSBound)
}

// latestOf is name's partition 0's log end offset.
func (c *hostileCase) latestOf(conn *RawConn, name string) int64 {
	c.t.Helper()
	o, err := LatestOffset(conn, name, 0)
	if err != nil {
		c.t.Fatalf("log end offset of %s: %v", name, err)
	}
	return o
}

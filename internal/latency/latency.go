// Package latency measures end-to-end latency for creek's benchmarks and
// for the peer benchmarks under bench/, so both time records the same way.
package latency

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"
)

// RecordBytes is the size of the records Measure publishes.
const RecordBytes = 100

// Measure publishes b.N records paced at rate per second, each stamped
// with the time since a common origin, receives them, and reports the
// 50th and 99th percentile time from publish to receipt, and the rate the
// pacing reached (a loaded machine delivers fewer ticks). receive returns
// the values of the records that arrived, waiting for at least one.
func Measure(b *testing.B, rate int, publish func(value []byte) error, receive func() ([][]byte, error)) {
	origin := time.Now()
	errs := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for range b.N {
			<-tick.C
			v := binary.BigEndian.AppendUint64(make([]byte, 0, RecordBytes), uint64(time.Since(origin)))
			if err := publish(v[:RecordBytes]); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	latencies := make([]time.Duration, 0, b.N)
	for len(latencies) < b.N {
		values, err := receive()
		if err != nil {
			b.Fatal(err)
		}
		now := time.Since(origin)
		for _, v := range values {
			latencies = append(latencies, now-time.Duration(binary.BigEndian.Uint64(v)))
		}
	}
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(origin).Seconds(), "records/s")
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}

package creek

import (
	"testing"
	"time"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// BenchmarkProduceValidation measures, in one run, what checking a
// produced batch's records costs against the whole produce path it is part
// of: a batch of 100 records of 100 bytes appended to an in-memory
// partition that does not sync (the cheapest path, where the check weighs
// most). It reports validate/produce, the share of the path the check
// takes (the path includes it), and validate-records/validate-header, what
// it costs against the CRC check alone that the path made before.
//
//	go test -run '^$' -bench ProduceValidation -count 3 .
func BenchmarkProduceValidation(b *testing.B) {
	n, err := openNode(fsx.NewMem(), "/n", Config{Logger: discardLogger(),
		TopicDefaults: map[string]string{ConfigSync: "never"}}, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	if err := n.CreateTopic(b.Context(), "t", TopicSpec{}); err != nil {
		b.Fatal(err)
	}
	for _, codec := range []batch.Compression{batch.None, batch.LZ4} {
		one := testBatchWith(b, codec, 100, 100)
		b.Run(codec.String(), func(b *testing.B) {
			var header, records, produce time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := batch.Validate(one); err != nil {
					b.Fatal(err)
				}
				header += time.Since(start)
				start = time.Now()
				if _, err := batch.ValidateProduced(one); err != nil {
					b.Fatal(err)
				}
				records += time.Since(start)
				start = time.Now()
				if _, err := n.ProduceBatch(b.Context(), "t", 0, append([]byte(nil), one...)); err != nil {
					b.Fatal(err)
				}
				produce += time.Since(start)
			}
			b.ReportMetric(float64(records)/float64(produce), "validate/produce")
			b.ReportMetric(float64(records)/float64(header), "validate-records/validate-header")
			b.ReportMetric(float64(produce)/float64(b.N), "produce-ns/op")
		})
	}
}

// testBatchWith builds a batch of n records of size bytes with codec.
func testBatchWith(b *testing.B, codec batch.Compression, n, size int) []byte {
	var builder batch.Builder
	builder.Reset(batch.BuildOptions{Compression: codec, BaseTimestamp: time.Now().UnixMilli()})
	value := make([]byte, size)
	for i := range n {
		value[0] = byte(i)
		builder.Add(nil, value, nil, time.Now().UnixMilli())
	}
	out, err := builder.Build()
	if err != nil {
		b.Fatal(err)
	}
	return out
}

package batch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateProduced: a producer's batch is stored only when its
// offsets are whole and its records sound, as Kafka's LogValidator
// requires. Black-box probes found each refused case accepted with NONE:
// the log end jumped two billion offsets, or a consumer stopped for good.
func TestValidateProduced(t *testing.T) {
	records := sampleRecords(3)
	raw := encodeRecords(records...)
	bomb := make([]byte, 2*DefaultMaxDecompressedBytes)
	for _, tc := range []struct {
		name  string
		batch []byte
		ok    bool
	}{
		{"uncompressed", mustBuild(t, BuildOptions{BaseTimestamp: testBase}, records...), true},
		{"gzip", mustBuild(t, BuildOptions{BaseTimestamp: testBase, Compression: Gzip}, records...), true},
		{"zstd", mustBuild(t, BuildOptions{BaseTimestamp: testBase, Compression: Zstd}, records...), true},
		{"last offset delta past the records", rawBatch(0, 1_000_000, 3, raw), false},
		{"last offset delta 2^31-1", rawBatch(0, 1<<31-1, 3, raw), false},
		{"a record count that lies", rawBatch(0, 3, 4, raw), false},
		{"fewer offset deltas than records claim", rawBatch(0, 1, 2, raw), false},
		{"a malformed record", rawBatch(0, 0, 1, withLength([]byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})), false},
		{"the gzip flag on raw records", rawBatch(int16(Gzip), 2, 3, raw), false},
		{"a zip bomb", rawBatch(int16(Zstd), 0, 1, compressed(t, Zstd, bomb)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateProduced(tc.batch)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorIs(t, err, ErrInvalidRecords, "a sound batch with unsound records")
		})
	}
	_, err := ValidateProduced(mustBuild(t, BuildOptions{}, records...)[:20])
	require.ErrorIs(t, err, ErrCorrupt)
	require.NotErrorIs(t, err, ErrInvalidRecords, "a torn batch is corrupt, not invalid")
	_, err = Validate(rawBatch(0, 1_000_000, 3, raw))
	assert.NoError(t, err, "a stored batch may have gaps compaction left: only a produced one is refused")
}

// BenchmarkValidateProduced compares what the produce path checks of a
// batch of 100 records: its header and CRC alone (before), its records as
// well (now); for LZ4, gzip and zstd the records are walked as they
// decompress.
func BenchmarkValidateProduced(b *testing.B) {
	for _, c := range []Compression{None, LZ4, Gzip, Zstd, Snappy} {
		batch := mustBuild(b, BuildOptions{Compression: c}, sampleRecords(100)...)
		b.Run(c.String()+"/header", func(b *testing.B) { // what the produce path checked before
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				if _, err := Validate(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.String()+"/records", func(b *testing.B) {
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ValidateProduced(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

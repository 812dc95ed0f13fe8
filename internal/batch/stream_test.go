package batch

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validateWithReader is ValidateProduced as it was before records were
// checked as they decompress: the whole batch decompressed, then walked.
// It is the oracle validateStream must agree with.
func validateWithReader(b []byte) error {
	h, err := Validate(b)
	if err != nil {
		return err
	}
	if int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
		return ErrInvalidRecords
	}
	var r Reader
	r.clear()
	if err := r.start(b, h); err != nil {
		return err
	}
	var rec Record
	for {
		switch err := r.Next(&rec); err {
		case nil:
		case io.EOF:
			return nil
		default:
			return err
		}
	}
}

// FuzzValidateStream builds a batch around any decompressed records,
// compressed with a streamable codec, and checks that ValidateProduced,
// which walks them as they decompress, accepts exactly what the whole-batch
// Reader accepts.
func FuzzValidateStream(f *testing.F) {
	for i, n := range []int{0, 1, 6} {
		f.Add(uint8(i), int32(n), encodeRecords(sampleRecords(n)...))
	}
	f.Add(uint8(1), int32(2), append(encodeRecords(sampleRecords(2)...), 0))
	f.Add(uint8(2), int32(3), encodeRecords(sampleRecords(2)...))
	f.Fuzz(func(t *testing.T, codec uint8, numRecords int32, records []byte) {
		c := []Compression{Gzip, LZ4, Zstd}[int(codec)%3]
		if numRecords < 0 || numRecords > 1<<16 {
			return
		}
		payload, err := c.appendCompressed(nil, records, 0)
		require.NoError(t, err)
		b := rawBatch(int16(c), numRecords-1, numRecords, payload)
		_, got := ValidateProduced(b)
		want := validateWithReader(b)
		if (got == nil) != (want == nil) {
			t.Fatalf("%s, %d records: streamed %v; whole %v", c, numRecords, got, want)
		}
		if got != nil {
			assert.ErrorIs(t, got, ErrCorrupt)
		}
	})
}

// TestValidateStreamHoldsOneRecord: a gzip batch of 32 MiB of records,
// 64 KiB each, is checked holding about one record, not 32 MiB; a bomb
// past the limit, in many records or in one, is refused, the one from its
// length before anything is read for it.
func TestValidateStreamHoldsOneRecord(t *testing.T) {
	value := bytes.Repeat([]byte{'z'}, 64<<10)
	var records []Record
	for range 512 {
		records = append(records, Record{Value: value})
	}
	for i := range records {
		records[i].OffsetDelta = int32(i)
	}
	b := mustBuild(t, BuildOptions{Compression: Gzip}, records...)
	require.Less(t, len(b), 1<<20, "a compressed batch of 32 MiB")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := ValidateProduced(b)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "allocated while checking 32 MiB of records")

	for _, n := range []int{1100, 1} { // 1100 × 64 KiB, and one record of 70 MiB
		size := 64 << 10
		if n == 1 {
			size = 70 << 20
		}
		bomb := make([]Record, n)
		for i := range bomb {
			bomb[i] = Record{OffsetDelta: int32(i), Value: make([]byte, size)}
		}
		_, err := ValidateProduced(mustBuild(t, BuildOptions{Compression: Zstd}, bomb...))
		require.ErrorIs(t, err, ErrInvalidRecords, fmt.Sprintf("%d records of %d bytes", n, size))
		assert.Contains(t, err.Error(), "more than 67108864 bytes")
	}
}

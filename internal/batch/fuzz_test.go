package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzSeeds returns valid batches of every codec and kind.
func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, c := range codecs {
		seeds = append(seeds,
			mustBuild(t, BuildOptions{Compression: c, BaseTimestamp: testBase}, sampleRecords(6)...),
			mustBuild(t, BuildOptions{Compression: c, LastOffsetDelta: 3}, Record{Value: []byte("v")}),
		)
	}
	seeds = append(seeds,
		mustBuild(t, BuildOptions{}),
		mustBuild(t, BuildOptions{Idempotent: true, ProducerID: 3, BaseSequence: -1, Transactional: true, Control: true},
			Record{Key: []byte{0, 0, 0, 0}, Value: []byte{0, 0, 0, 0, 0, 5}}),
		rawBatch(int16(Snappy), 5, 6, xerialFrame(compressedRecords(t, Snappy, sampleRecords(6)))),
	)
	lat := mustBuild(t, BuildOptions{BaseTimestamp: testBase}, sampleRecords(3)...)
	SetLogAppendTime(lat, testBase+5)
	return append(seeds, lat)
}

// compressedRecords encodes and compresses records.
func compressedRecords(t testing.TB, c Compression, records []Record) []byte {
	out, err := c.appendCompressed(nil, encodeRecords(records...), 0)
	require.NoError(t, err)
	return out
}

// FuzzValidate checks that Validate, ParseHeader and Next never panic and
// agree, and that patching a valid batch keeps it valid.
func FuzzValidate(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		before := bytes.Clone(b)
		ph, perr := ParseHeader(b)
		batch, rest, nerr := Next(b)
		h, err := Validate(b)
		assert.Equal(t, before, b, "decoding must not change its input")
		for _, e := range []error{perr, nerr, err} {
			if e != nil && e != io.EOF {
				var ce *CorruptError
				require.ErrorAs(t, e, &ce)
				require.ErrorIs(t, e, ErrCorrupt)
				require.GreaterOrEqual(t, ce.Offset, int64(0))
				require.LessOrEqual(t, ce.Offset, int64(len(b)))
			}
		}
		if err != nil {
			return
		}
		require.NoError(t, perr)
		require.NoError(t, nerr)
		assert.Equal(t, ph, h)
		assert.Equal(t, b, batch)
		assert.Empty(t, rest)
		assert.Equal(t, len(b), h.Size())

		SetBaseOffset(b, h.BaseOffset^0x5555)
		SetPartitionLeaderEpoch(b, h.PartitionLeaderEpoch+1)
		h2, err := Validate(b)
		require.NoError(t, err)
		assert.Equal(t, h.BaseOffset^0x5555, h2.BaseOffset)
		assert.Equal(t, h.PartitionLeaderEpoch+1, h2.PartitionLeaderEpoch)

		SetLogAppendTime(b, 42)
		h3, err := Validate(b)
		require.NoError(t, err)
		assert.Equal(t, LogAppendTime, h3.TimestampType())
		assert.Equal(t, int64(42), h3.MaxTimestamp)
	})
}

// FuzzRecords checks that decoding never panics and that records which
// decode rebuild into a batch that decodes to the same records. It fixes the
// length, magic and CRC of its input so that the fuzzer spends its time on
// the records rather than on the checks FuzzValidate covers.
func FuzzRecords(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= HeaderSize && len(b)-LengthFieldEnd <= MaxLength {
			binary.BigEndian.PutUint32(b[batchLength:], uint32(len(b)-LengthFieldEnd))
			b[batchMagic] = MagicV2
			putCRC(b)
		}
		r := Reader{MaxDecompressedBytes: 4 << 20}
		err := r.Reset(b)
		var records []Record
		for err == nil {
			var rec Record
			if err = r.Next(&rec); err == nil {
				records = append(records, rec)
			}
		}
		if !errors.Is(err, io.EOF) {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		h := r.Header()
		require.Len(t, records, int(h.NumRecords))

		// What decodes rebuilds, with the same options, into a batch that
		// decodes to the same records.
		opts := h.BuildOptions()
		again, err := Build(opts, records...)
		require.NoError(t, err)
		if h.TimestampType() == LogAppendTime {
			SetLogAppendTime(again, h.MaxTimestamp)
		}
		h2, err := Validate(again)
		require.NoError(t, err)
		assert.Equal(t, opts, h2.BuildOptions())
		assert.Equal(t, h.NumRecords, h2.NumRecords)
		assert.Equal(t, h.TimestampType(), h2.TimestampType())
		got, err := decodeAll(again)
		require.NoError(t, err)
		assert.Equal(t, records, got)
	})
}

package batch

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edit returns a copy of b changed by fn.
func edit(b []byte, fn func(b []byte)) []byte {
	b = bytes.Clone(b)
	fn(b)
	return b
}

// put32 sets the int32 at off.
func put32(off int, v int32) func([]byte) {
	return func(b []byte) { binary.BigEndian.PutUint32(b[off:], uint32(v)) }
}

// compressed compresses raw with c, or fails the test.
func compressed(t *testing.T, c Compression, raw []byte) []byte {
	t.Helper()
	out, err := c.appendCompressed(nil, raw, 0)
	require.NoError(t, err)
	return out
}

func TestCorrupt(t *testing.T) {
	valid := mustBuild(t, BuildOptions{BaseTimestamp: testBase}, sampleRecords(3)...)
	_, err := Validate(valid)
	require.NoError(t, err)
	oneRecord := func(body []byte) []byte { return rawBatch(0, 0, 1, withLength(body)) }
	zeros := make([]byte, 2<<20)

	tests := []struct {
		name       string
		batch      []byte
		validateOK bool // the header is sound; the records are not
		short      bool // the error also matches io.ErrUnexpectedEOF
		limit      int  // Reader.MaxDecompressedBytes
	}{
		// The header and the batch as a whole: Validate catches these.
		{name: "empty", batch: []byte{}, short: true},
		{name: "short header", batch: valid[:HeaderSize-1], short: true},
		{name: "short batch", batch: valid[:len(valid)-1], short: true},
		{name: "trailing byte", batch: append(bytes.Clone(valid), 0)},
		{name: "length below header", batch: edit(valid, put32(batchLength, minLength-1))},
		{name: "negative length", batch: edit(valid, put32(batchLength, -1))},
		{name: "length one short", batch: edit(valid, put32(batchLength, int32(len(valid)-LengthFieldEnd-1)))},
		{name: "length one long", batch: edit(valid, put32(batchLength, int32(len(valid)-LengthFieldEnd+1))), short: true},
		{name: "bad magic", batch: edit(valid, func(b []byte) { b[batchMagic] = 1 })},
		{name: "flipped crc byte", batch: edit(valid, func(b []byte) { b[batchCRC+2] ^= 0x10 })},
		{name: "flipped attributes byte", batch: edit(valid, func(b []byte) { b[batchAttributes+1] ^= 0x01 })},
		{name: "flipped payload byte", batch: edit(valid, func(b []byte) { b[len(b)-2] ^= 0x40 })},
		{name: "unknown codec 5", batch: rawBatch(5, 2, 3, valid[HeaderSize:])},
		{name: "unknown codec 7", batch: rawBatch(7|attrTransactional, 2, 3, valid[HeaderSize:])},
		{name: "negative last offset delta", batch: rawBatch(0, -1, 0, nil)},
		{name: "negative record count", batch: rawBatch(0, 2, -3, valid[HeaderSize:])},
		{name: "more records than offsets", batch: rawBatch(0, 1, 3, valid[HeaderSize:])},
		{name: "record count larger than bytes allow", batch: rawBatch(0, 1000, 1000, valid[HeaderSize:])},
		{name: "huge record count", batch: rawBatch(0, 1<<31-1, 1<<31-1, valid[HeaderSize:])},
		{name: "record bytes for no records", batch: rawBatch(0, 0, 0, valid[HeaderSize:])},
		{name: "no compressed bytes for records", batch: rawBatch(int16(Zstd), 0, 1, nil)},

		// The records: Validate passes, decoding fails.
		{name: "truncated record", validateOK: true,
			batch: rawBatch(0, 2, 3, valid[HeaderSize:len(valid)-3])},
		{name: "record length past the end", validateOK: true,
			batch: rawBatch(0, 0, 1, append(varints(100), make([]byte, 10)...))},
		{name: "record length varint overflow", validateOK: true,
			batch: rawBatch(0, 0, 1, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})},
		{name: "record length wider than int32", validateOK: true,
			batch: rawBatch(0, 0, 1, []byte{0xff, 0xff, 0xff, 0xff, 0x1f, 0, 0, 0})},
		{name: "negative record length", validateOK: true,
			batch: rawBatch(0, 0, 1, append(varints(-7), make([]byte, 7)...))},
		{name: "timestamp varlong overflow", validateOK: true,
			batch: oneRecord([]byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 1, 1, 0})},
		{name: "offset delta varint overflow", validateOK: true,
			batch: oneRecord([]byte{0, 0, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 1, 0})},
		{name: "key length -2", validateOK: true, batch: oneRecord(varints(0, 0, 0, -2, -1, 0))},
		{name: "value length -5", validateOK: true, batch: oneRecord(varints(0, 0, 0, -1, -5, 0))},
		{name: "key past the record", validateOK: true, batch: oneRecord(varints(0, 0, 0, 10, -1, 0))},
		{name: "negative header count", validateOK: true, batch: oneRecord(varints(0, 0, 0, -1, -1, -1))},
		{name: "header count past the record", validateOK: true, batch: oneRecord(varints(0, 0, 0, -1, -1, 1000))},
		{name: "null header key", validateOK: true, batch: oneRecord(varints(0, 0, 0, -1, -1, 1, -1, -1))},
		{name: "header value length -2", validateOK: true, batch: oneRecord(varints(0, 0, 0, -1, -1, 1, 0, -2))},
		{name: "record longer than its fields", validateOK: true, batch: oneRecord(varints(0, 0, 0, -1, -1, 0, 0))},
		{name: "record shorter than its fields", validateOK: true,
			batch: rawBatch(0, 0, 1, append(varints(6), varints(0, 0, 0, -1, 1, 0, 7)...))},
		{name: "bytes after the last record", validateOK: true, batch: rawBatch(0, 2, 2, valid[HeaderSize:])},
		{name: "offset delta repeats", validateOK: true,
			batch: rawBatch(0, 1, 2, encodeRecords(Record{}, Record{}))},
		{name: "offset delta falls", validateOK: true,
			batch: rawBatch(0, 5, 2, encodeRecords(Record{OffsetDelta: 3}, Record{OffsetDelta: 1}))},
		{name: "negative offset delta", validateOK: true,
			batch: rawBatch(0, 5, 1, encodeRecords(Record{OffsetDelta: -1}))},
		{name: "offset delta past the last", validateOK: true,
			batch: rawBatch(0, 1, 1, encodeRecords(Record{OffsetDelta: 2}))},

		// Compressed records.
		{name: "garbage gzip", validateOK: true, batch: rawBatch(int16(Gzip), 0, 1, []byte("not gzip at all"))},
		{name: "garbage snappy", validateOK: true, batch: rawBatch(int16(Snappy), 0, 1, []byte{20, 0xff, 0xff, 0xff, 0x0f, 1, 2})},
		{name: "snappy length past the limit", validateOK: true, batch: rawBatch(int16(Snappy), 0, 1, []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2})},
		{name: "garbage lz4", validateOK: true, batch: rawBatch(int16(LZ4), 0, 1, []byte("not lz4 at all"))},
		{name: "garbage zstd", validateOK: true, batch: rawBatch(int16(Zstd), 0, 1, []byte("not zstd at all"))},
		{name: "truncated gzip", validateOK: true,
			batch: rawBatch(int16(Gzip), 2, 3, compressed(t, Gzip, valid[HeaderSize:])[:30])},
		{name: "truncated lz4", validateOK: true,
			batch: rawBatch(int16(LZ4), 2, 3, compressed(t, LZ4, valid[HeaderSize:])[:20])},
		{name: "truncated zstd", validateOK: true,
			batch: rawBatch(int16(Zstd), 2, 3, compressed(t, Zstd, valid[HeaderSize:])[:20])},
		{name: "truncated xerial header", validateOK: true, batch: rawBatch(int16(Snappy), 0, 1, xerialMagic)},
		{name: "xerial block past the end", validateOK: true,
			batch: rawBatch(int16(Snappy), 0, 1, append(append(bytes.Clone(xerialMagic), 0, 0, 0, 1, 0, 0, 0, 1), 0, 0, 1, 0, 5))},
		{name: "compressed bytes for no records", validateOK: true,
			batch: rawBatch(int16(Zstd), 0, 0, compressed(t, Zstd, valid[HeaderSize:]))},
		{name: "compressed records one short", validateOK: true,
			batch: rawBatch(int16(LZ4), 3, 4, compressed(t, LZ4, valid[HeaderSize:]))},

		// Decompression bombs: 2 MiB of zeros against a 1 MiB limit.
		{name: "gzip bomb", validateOK: true, limit: 1 << 20, batch: rawBatch(int16(Gzip), 0, 1, compressed(t, Gzip, zeros))},
		{name: "snappy bomb", validateOK: true, limit: 1 << 20, batch: rawBatch(int16(Snappy), 0, 1, compressed(t, Snappy, zeros))},
		{name: "lz4 bomb", validateOK: true, limit: 1 << 20, batch: rawBatch(int16(LZ4), 0, 1, compressed(t, LZ4, zeros))},
		{name: "zstd bomb", validateOK: true, limit: 1 << 20, batch: rawBatch(int16(Zstd), 0, 1, compressed(t, Zstd, zeros))},
		{name: "xerial bomb", validateOK: true, limit: 1 << 20, batch: rawBatch(int16(Snappy), 0, 1,
			xerialFrame(compressed(t, Snappy, zeros[:900<<10]), compressed(t, Snappy, zeros[:900<<10])))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := bytes.Clone(tc.batch)
			_, err := Validate(tc.batch)
			if tc.validateOK {
				require.NoError(t, err)
				r := Reader{MaxDecompressedBytes: tc.limit}
				err = r.Reset(tc.batch)
				var rec Record
				for err == nil {
					err = r.Next(&rec)
				}
				if err == io.EOF {
					t.Fatalf("decoded without error")
				}
				_, err2 := decodeAll(tc.batch)
				assert.ErrorIs(t, err2, ErrCorrupt, "Records agrees with Reader")
			}
			require.ErrorIs(t, err, ErrCorrupt)
			var ce *CorruptError
			require.ErrorAs(t, err, &ce)
			assert.GreaterOrEqual(t, ce.Offset, int64(0))
			assert.LessOrEqual(t, ce.Offset, int64(len(tc.batch)))
			if tc.short {
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			} else {
				assert.NotErrorIs(t, err, io.ErrUnexpectedEOF)
			}
			assert.Equal(t, before, tc.batch, "decoding must not change its input")
			t.Log(err)
		})
	}
}

// TestBombDefaultLimit inflates past DefaultMaxDecompressedBytes.
func TestBombDefaultLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 64 MiB")
	}
	zeros := make([]byte, DefaultMaxDecompressedBytes+1)
	b := rawBatch(int16(Zstd), 0, 1, compressed(t, Zstd, zeros))
	t.Logf("%d bytes inflate to %d", len(b), len(zeros))
	_, err := decodeAll(b)
	require.ErrorIs(t, err, ErrCorrupt)
}

// xerialFrame frames raw snappy blocks as snappy-java does.
func xerialFrame(blocks ...[]byte) []byte {
	b := append([]byte{}, xerialMagic...)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint32(b, 1)
	for _, block := range blocks {
		b = binary.BigEndian.AppendUint32(b, uint32(len(block)))
		b = append(b, block...)
	}
	return b
}

package batch

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// These tests check wire compatibility against franz-go's kmsg, which
// encodes and decodes batches and records independently of this package,
// with compression done by the codec libraries directly (gzip by the
// standard library).

// independentDecompress decompresses without this package's code.
func independentDecompress(t *testing.T, c Compression, b []byte) []byte {
	t.Helper()
	switch c {
	case None:
		return b
	case Gzip:
		r, err := stdgzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		out, err := io.ReadAll(r)
		require.NoError(t, err)
		return out
	case Snappy:
		out, err := snappy.Decode(nil, b)
		require.NoError(t, err)
		return out
	case LZ4:
		out, err := io.ReadAll(lz4.NewReader(bytes.NewReader(b)))
		require.NoError(t, err)
		return out
	case Zstd:
		d, err := zstd.NewReader(nil)
		require.NoError(t, err)
		defer d.Close()
		out, err := d.DecodeAll(b, nil)
		require.NoError(t, err)
		return out
	}
	t.Fatalf("no codec %d", c)
	return nil
}

// independentCompress compresses without this package's code, with the
// libraries' default settings (which differ from ours: 4 MiB lz4 blocks
// with a content checksum, zstd with its frame checksum).
func independentCompress(t *testing.T, c Compression, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch c {
	case None:
		return b
	case Gzip:
		w := stdgzip.NewWriter(&buf)
		_, err := w.Write(b)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	case Snappy:
		return snappy.Encode(nil, b)
	case LZ4:
		w := lz4.NewWriter(&buf)
		_, err := w.Write(b)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	case Zstd:
		w, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		require.NoError(t, err)
		defer w.Close()
		return w.EncodeAll(b, nil)
	}
	return buf.Bytes()
}

// kmsgRecords decodes back-to-back records with kmsg.
func kmsgRecords(t *testing.T, b []byte, n int) []kmsg.Record {
	t.Helper()
	var records []kmsg.Record
	for range n {
		var r kmsg.Record
		require.NoError(t, r.ReadFrom(b))
		records = append(records, r)
		used := varintSize(int64(r.Length)) + int(r.Length)
		b = b[used:]
	}
	require.Empty(t, b, "bytes after the last record")
	return records
}

// toKmsg converts our record to kmsg's, Length left zero.
func toKmsg(r Record) kmsg.Record {
	k := kmsg.Record{
		Attributes:       r.Attributes,
		TimestampDelta64: r.TimestampDelta,
		TimestampDelta:   int32(r.TimestampDelta),
		OffsetDelta:      r.OffsetDelta,
		Key:              r.Key,
		Value:            r.Value,
	}
	for _, h := range r.Headers {
		k.Headers = append(k.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
	}
	return k
}

func TestKmsgReadsOurBatches(t *testing.T) {
	records := sampleRecords(25)
	for _, c := range codecs {
		t.Run(c.String(), func(t *testing.T) {
			opts := BuildOptions{
				Compression: c, BaseTimestamp: testBase,
				Idempotent: true, ProducerID: 77, ProducerEpoch: 4, BaseSequence: 12,
				Transactional: true,
			}
			b := mustBuild(t, opts, records...)
			SetBaseOffset(b, 1234)
			SetPartitionLeaderEpoch(b, 9)
			h, err := Validate(b)
			require.NoError(t, err)

			var kb kmsg.RecordBatch
			require.NoError(t, kb.ReadFrom(b))
			assert.Equal(t, int64(1234), kb.FirstOffset)
			assert.Equal(t, h.Length, kb.Length)
			assert.Equal(t, int32(9), kb.PartitionLeaderEpoch)
			assert.Equal(t, int8(2), kb.Magic)
			assert.Equal(t, crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)), uint32(kb.CRC))
			assert.Equal(t, int16(c)|0x10, kb.Attributes)
			assert.Equal(t, int32(24), kb.LastOffsetDelta)
			assert.Equal(t, int64(testBase), kb.FirstTimestamp)
			assert.Equal(t, h.MaxTimestamp, kb.MaxTimestamp)
			assert.Equal(t, int64(77), kb.ProducerID)
			assert.Equal(t, int16(4), kb.ProducerEpoch)
			assert.Equal(t, int32(12), kb.FirstSequence)
			assert.Equal(t, int32(25), kb.NumRecords)

			raw := independentDecompress(t, c, kb.Records)
			got := kmsgRecords(t, raw, int(kb.NumRecords))
			require.Len(t, got, len(records))
			for i, r := range records {
				want := toKmsg(r)
				want.Length = got[i].Length
				assert.Equal(t, want, got[i], "record %d", i)
			}
		})
	}
}

func TestWeReadKmsgBatches(t *testing.T) {
	records := sampleRecords(25)
	var raw []byte
	for _, r := range records {
		k := toKmsg(r)
		body := k.AppendTo(nil)[1:] // Length 0 takes one byte
		k.Length = int32(len(body))
		raw = k.AppendTo(raw)
	}
	for _, c := range codecs {
		t.Run(c.String(), func(t *testing.T) {
			payload := independentCompress(t, c, raw)
			kb := kmsg.RecordBatch{
				FirstOffset:          5000,
				Length:               int32(49 + len(payload)),
				PartitionLeaderEpoch: 3,
				Magic:                2,
				Attributes:           int16(c) | 0x08, // LogAppendTime
				LastOffsetDelta:      24,
				FirstTimestamp:       testBase,
				MaxTimestamp:         testBase + 999,
				ProducerID:           -1,
				ProducerEpoch:        -1,
				FirstSequence:        -1,
				NumRecords:           25,
				Records:              payload,
			}
			b := kb.AppendTo(nil)
			kb.CRC = int32(crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
			b = kb.AppendTo(b[:0])
			require.Equal(t, uint32(kb.CRC), binary.BigEndian.Uint32(b[17:]))

			h, err := Validate(b)
			require.NoError(t, err)
			assert.Equal(t, Header{
				BaseOffset: 5000, Length: kb.Length, PartitionLeaderEpoch: 3, Magic: 2,
				CRC: uint32(kb.CRC), Attributes: kb.Attributes, LastOffsetDelta: 24,
				BaseTimestamp: testBase, MaxTimestamp: testBase + 999,
				ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 25,
			}, h)
			assert.Equal(t, LogAppendTime, h.TimestampType())

			got := collect(t, b)
			assert.Equal(t, records, got)
			for i, r := range got {
				assert.Equal(t, int64(5000+i), r.Offset(h))
				assert.Equal(t, int64(testBase+999), r.Timestamp(h))
			}
		})
	}
}

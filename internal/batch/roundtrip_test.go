package batch

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	sets := []struct {
		name    string
		records []Record
	}{
		{"no records", nil},
		{"one null record", []Record{{}}},
		{"one empty record", []Record{{Key: []byte{}, Value: []byte{}}}},
		{"mixed", sampleRecords(10)},
		{"many", sampleRecords(3000)},
		{"large value", []Record{{Value: bytes.Repeat([]byte("0123456789abcdef"), 40<<10)}}},
	}
	for _, c := range codecs {
		for _, set := range sets {
			t.Run(c.String()+"/"+set.name, func(t *testing.T) {
				opts := BuildOptions{Compression: c, BaseTimestamp: testBase}
				b := mustBuild(t, opts, set.records...)

				h, err := Validate(b)
				require.NoError(t, err)
				assert.Equal(t, len(b), h.Size())
				assert.Equal(t, int32(len(set.records)), h.NumRecords)
				assert.Equal(t, int32(max(len(set.records)-1, 0)), h.LastOffsetDelta)
				assert.Equal(t, int64(testBase), h.BaseTimestamp)
				assert.Equal(t, c, h.Compression())
				assert.Equal(t, CreateTime, h.TimestampType())
				assert.Equal(t, int64(-1), h.ProducerID)
				assert.Equal(t, int16(-1), h.ProducerEpoch)
				assert.Equal(t, int32(-1), h.BaseSequence)
				assert.Equal(t, int32(-1), h.PartitionLeaderEpoch)
				assert.False(t, h.Transactional())
				assert.False(t, h.Control())
				wantMax := int64(testBase)
				for _, r := range set.records {
					wantMax = max(wantMax, testBase+r.TimestampDelta)
				}
				assert.Equal(t, wantMax, h.MaxTimestamp)

				assert.Equal(t, set.records, collect(t, b))
			})
		}
	}
}

func TestCompressionLevels(t *testing.T) {
	levels := map[Compression][]int{
		Gzip: {1, 5, 9},
		LZ4:  {1, 9, 17},
		Zstd: {-131072, -5, 1, 3, 7, 12, 22},
	}
	records := sampleRecords(200)
	for c, ls := range levels {
		for _, level := range ls {
			b := mustBuild(t, BuildOptions{Compression: c, CompressionLevel: level}, records...)
			assert.Equal(t, records, collect(t, b), "%s level %d", c, level)
		}
	}
}

func TestBuilder(t *testing.T) {
	var bld Builder
	for _, c := range codecs {
		t.Run(c.String(), func(t *testing.T) {
			bld.Reset(BuildOptions{
				Compression:   c,
				Idempotent:    true,
				ProducerID:    42,
				ProducerEpoch: 3,
				BaseSequence:  1000,
				Transactional: true,
			})
			stamps := []int64{testBase + 5, testBase, testBase + 9, testBase + 1}
			for i, ts := range stamps {
				bld.Add([]byte{byte('a' + i)}, []byte("v"), []RecordHeader{{Key: "i", Value: []byte{byte(i)}}}, ts)
			}
			assert.Equal(t, 4, bld.Len())
			assert.Greater(t, bld.Size(), HeaderSize)
			b, err := bld.Build()
			require.NoError(t, err)

			SetBaseOffset(b, 500)
			SetPartitionLeaderEpoch(b, 7)
			h, err := Validate(b)
			require.NoError(t, err)
			assert.Equal(t, int64(500), h.BaseOffset)
			assert.Equal(t, int32(7), h.PartitionLeaderEpoch)
			assert.Equal(t, int64(503), h.LastOffset())
			assert.Equal(t, int64(504), h.NextOffset())
			assert.Equal(t, int64(testBase+5), h.BaseTimestamp, "the first record's timestamp is the base")
			assert.Equal(t, int64(testBase+9), h.MaxTimestamp)
			assert.Equal(t, int64(42), h.ProducerID)
			assert.Equal(t, int16(3), h.ProducerEpoch)
			assert.Equal(t, int32(1000), h.BaseSequence)
			assert.True(t, h.Transactional())
			assert.False(t, h.Control())

			i := 0
			for r, err := range Records(b) {
				require.NoError(t, err)
				assert.Equal(t, int64(500+i), r.Offset(h))
				assert.Equal(t, stamps[i], r.Timestamp(h))
				assert.Equal(t, []byte{byte('a' + i)}, r.Key)
				i++
			}
			assert.Equal(t, 4, i)

			// AppendTo gives the same bytes, after what dst holds.
			bld.Reset(BuildOptions{Compression: c})
			bld.Add(nil, []byte("x"), nil, testBase)
			want, err := bld.Build()
			require.NoError(t, err)
			want = bytes.Clone(want)
			got, err := bld.AppendTo([]byte("prefix"))
			require.NoError(t, err)
			assert.Equal(t, append([]byte("prefix"), want...), got)
		})
	}
}

func TestBuilderZeroValue(t *testing.T) {
	var bld Builder
	b, err := bld.Build()
	require.NoError(t, err)
	h, err := Validate(b)
	require.NoError(t, err)
	assert.Equal(t, int32(0), h.NumRecords)
	assert.Equal(t, HeaderSize, bld.Size())

	var bld2 Builder
	bld2.Add(nil, []byte("v"), nil, 7)
	b, err = bld2.Build()
	require.NoError(t, err)
	assert.Equal(t, []Record{{Value: []byte("v")}}, collect(t, b))
}

func TestBuildKeepsOffsetGaps(t *testing.T) {
	// As compaction leaves it: offsets 0, 4, 9 kept of 0..11.
	records := []Record{{OffsetDelta: 0}, {OffsetDelta: 4, Value: []byte("b")}, {OffsetDelta: 9, TimestampDelta: 2}}
	for _, c := range codecs {
		b := mustBuild(t, BuildOptions{Compression: c, LastOffsetDelta: 11}, records...)
		h, err := Validate(b)
		require.NoError(t, err)
		assert.Equal(t, int32(11), h.LastOffsetDelta)
		assert.Equal(t, int32(3), h.NumRecords)
		assert.Equal(t, records, collect(t, b))

		// Header.BuildOptions rebuilds the same batch.
		again := mustBuild(t, h.BuildOptions(), collect(t, b)...)
		assert.Equal(t, b, again)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name    string
		opts    BuildOptions
		records []Record
	}{
		{"unknown codec", BuildOptions{Compression: 5}, nil},
		{"negative codec", BuildOptions{Compression: -1}, nil},
		{"gzip level", BuildOptions{Compression: Gzip, CompressionLevel: 10}, nil},
		{"lz4 level", BuildOptions{Compression: LZ4, CompressionLevel: 18}, nil},
		{"zstd level", BuildOptions{Compression: Zstd, CompressionLevel: 23}, nil},
		{"snappy level", BuildOptions{Compression: Snappy, CompressionLevel: 1}, nil},
		{"producer without idempotent", BuildOptions{ProducerID: 5}, nil},
		{"negative last offset delta", BuildOptions{LastOffsetDelta: -1}, nil},
		{"offset deltas repeat", BuildOptions{}, []Record{{}, {}}},
		{"offset deltas fall", BuildOptions{}, []Record{{OffsetDelta: 3}, {OffsetDelta: 2}}},
		{"negative offset delta", BuildOptions{}, []Record{{OffsetDelta: -1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.opts, tc.records...)
			assert.Error(t, err)
		})
	}
}

func TestBuildOptionsFromHeader(t *testing.T) {
	opts := BuildOptions{
		Compression: Zstd, BaseTimestamp: testBase, LastOffsetDelta: 9,
		Idempotent: true, ProducerID: 1, ProducerEpoch: 2, BaseSequence: -1,
		Transactional: true, Control: true,
	}
	b := mustBuild(t, opts, Record{Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 1}})
	h, err := Validate(b)
	require.NoError(t, err)
	assert.Equal(t, opts, h.BuildOptions())
	assert.True(t, h.Control())

	h, err = Validate(mustBuild(t, BuildOptions{}))
	require.NoError(t, err)
	assert.Equal(t, BuildOptions{}, h.BuildOptions())
}

func TestSetLogAppendTime(t *testing.T) {
	for _, c := range codecs {
		b := mustBuild(t, BuildOptions{Compression: c, BaseTimestamp: testBase}, sampleRecords(5)...)
		// A following batch must be left alone.
		buf := append(bytes.Clone(b), mustBuild(t, BuildOptions{})...)
		SetLogAppendTime(buf, testBase+1000)

		first, rest, err := Next(buf)
		require.NoError(t, err)
		h, err := Validate(first)
		require.NoError(t, err)
		assert.Equal(t, LogAppendTime, h.TimestampType())
		assert.Equal(t, int64(testBase+1000), h.MaxTimestamp)
		assert.Equal(t, c, h.Compression())
		for r, err := range Records(first) {
			require.NoError(t, err)
			assert.Equal(t, int64(testBase+1000), r.Timestamp(h))
		}
		_, err = Validate(rest)
		assert.NoError(t, err)
	}
}

func TestNext(t *testing.T) {
	a := mustBuild(t, BuildOptions{}, sampleRecords(3)...)
	b := mustBuild(t, BuildOptions{Compression: Zstd}, sampleRecords(4)...)
	c := mustBuild(t, BuildOptions{})
	log := bytes.Join([][]byte{a, b, c}, nil)

	var got [][]byte
	for rest := log; ; {
		batch, next, err := Next(rest)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		assert.Equal(t, len(batch), cap(batch), "appending to a batch must not overwrite the next")
		got = append(got, batch)
		rest = next
	}
	assert.Equal(t, [][]byte{a, b, c}, got)

	// Every cut inside the last batch is short, never anything else.
	for cut := len(a) + len(b) + 1; cut < len(log); cut++ {
		_, rest, err := Next(log[len(a)+len(b) : cut])
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut %d", cut)
		require.ErrorIs(t, err, ErrCorrupt)
		var ce *CorruptError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "short batch", ce.Reason)
		assert.Len(t, rest, cut-len(a)-len(b), "rest keeps the partial batch")
	}

	bad := bytes.Clone(log)
	bad[len(a)+batchMagic] = 1
	_, _, err := Next(bad[len(a):])
	require.ErrorIs(t, err, ErrCorrupt)
	assert.NotErrorIs(t, err, io.ErrUnexpectedEOF)

	binary.BigEndian.PutUint32(bad[batchLength:], 3)
	_, _, err = Next(bad)
	require.ErrorIs(t, err, ErrCorrupt)
	assert.NotErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestReaderReuse(t *testing.T) {
	var r Reader
	var rec Record
	for _, c := range codecs {
		records := sampleRecords(20)
		require.NoError(t, r.Reset(mustBuild(t, BuildOptions{Compression: c}, records...)))
		assert.Equal(t, 20, r.Remaining())
		assert.Equal(t, c, r.Header().Compression())
		for i := range records {
			require.NoError(t, r.Next(&rec))
			assert.Equal(t, records[i], rec)
		}
		assert.Equal(t, io.EOF, r.Next(&rec))
		assert.Equal(t, io.EOF, r.Next(&rec), "errors are sticky")
	}

	// A failed Reset leaves the Reader returning its error.
	err := r.Reset([]byte("nonsense"))
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Equal(t, err, r.Next(&rec))

	var zero Reader
	assert.Equal(t, io.EOF, zero.Next(&rec))
}

func TestXerialSnappy(t *testing.T) {
	records := sampleRecords(50)
	raw := encodeRecords(records...)

	// Kafka's Java client frames snappy as Xerial's snappy-java does: magic,
	// version 1, compatible version 1, then length-prefixed blocks.
	framed := append([]byte{}, xerialMagic...)
	framed = binary.BigEndian.AppendUint32(framed, 1)
	framed = binary.BigEndian.AppendUint32(framed, 1)
	for _, chunk := range [][]byte{raw[:len(raw)/3], raw[len(raw)/3:]} {
		block := snappy.Encode(nil, chunk)
		framed = binary.BigEndian.AppendUint32(framed, uint32(len(block)))
		framed = append(framed, block...)
	}
	b := rawBatch(int16(Snappy), int32(len(records)-1), int32(len(records)), framed)
	assert.Equal(t, records, collect(t, b))

	// The framing alone, with no blocks, decodes to nothing.
	empty := rawBatch(int16(Snappy), 0, 0, framed[:xerialHeaderSize])
	assert.Empty(t, collect(t, empty))
}

func TestMaxDecompressedBytes(t *testing.T) {
	records := []Record{{Value: make([]byte, 10<<10)}}
	for _, c := range codecs[1:] {
		b := mustBuild(t, BuildOptions{Compression: c}, records...)
		r := Reader{MaxDecompressedBytes: 10 << 10}
		require.ErrorIs(t, r.Reset(b), ErrCorrupt, "%s", c)

		r.MaxDecompressedBytes = 11 << 10
		require.NoError(t, r.Reset(b), "%s", c)
		var rec Record
		require.NoError(t, r.Next(&rec))
		assert.Equal(t, records[0], rec)
	}
}

func TestStrings(t *testing.T) {
	assert.Equal(t, []string{"none", "gzip", "snappy", "lz4", "zstd", "Compression(6)"},
		[]string{None.String(), Gzip.String(), Snappy.String(), LZ4.String(), Zstd.String(), Compression(6).String()})
	assert.Equal(t, "CreateTime", CreateTime.String())
	assert.Equal(t, "LogAppendTime", LogAppendTime.String())
	assert.Equal(t, "TimestampType(3)", TimestampType(3).String())
}

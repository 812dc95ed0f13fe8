package batch

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHeader(t *testing.T) {
	b := mustBuild(t, BuildOptions{
		Compression: LZ4, BaseTimestamp: testBase,
		Idempotent: true, ProducerID: 9, ProducerEpoch: 1, BaseSequence: 44, Control: true,
	}, sampleRecords(4)...)
	SetBaseOffset(b, 1<<40)
	SetPartitionLeaderEpoch(b, 12)

	h, err := ParseHeader(b[:HeaderSize]) // the records are not needed
	require.NoError(t, err)
	assert.Equal(t, Header{
		BaseOffset:           1 << 40,
		Length:               int32(len(b) - LengthFieldEnd),
		PartitionLeaderEpoch: 12,
		Magic:                2,
		CRC:                  binary.BigEndian.Uint32(b[17:]),
		Attributes:           int16(LZ4) | 0x20,
		LastOffsetDelta:      3,
		BaseTimestamp:        testBase,
		MaxTimestamp:         testBase + 9,
		ProducerID:           9,
		ProducerEpoch:        1,
		BaseSequence:         44,
		NumRecords:           4,
	}, h)
	assert.Equal(t, len(b), h.Size())
	assert.Equal(t, LZ4, h.Compression())
	assert.True(t, h.Control())
	assert.False(t, h.Transactional())
	assert.False(t, h.HasDeleteHorizon())
	assert.Equal(t, int64(1<<40+3), h.LastOffset())

	v, err := Validate(b)
	require.NoError(t, err)
	assert.Equal(t, h, v)

	// ParseHeader does not check the CRC; Validate does.
	b[len(b)-1] ^= 1
	_, err = ParseHeader(b)
	assert.NoError(t, err)
	_, err = Validate(b)
	assert.ErrorIs(t, err, ErrCorrupt)
}

func TestAttributes(t *testing.T) {
	h := Header{Attributes: 0x7f}
	assert.Equal(t, Compression(7), h.Compression())
	assert.Equal(t, LogAppendTime, h.TimestampType())
	assert.True(t, h.Transactional())
	assert.True(t, h.Control())
	assert.True(t, h.HasDeleteHorizon())
}

// TestLZ4FrameForKafka checks what Kafka's KafkaLZ4BlockInputStream needs:
// frame version 1 with independent blocks of at most 64 KiB.
func TestLZ4FrameForKafka(t *testing.T) {
	b := mustBuild(t, BuildOptions{Compression: LZ4}, sampleRecords(5000)...)
	frame := b[HeaderSize:]
	require.Equal(t, uint32(0x184D2204), binary.LittleEndian.Uint32(frame))
	flg, bd := frame[4], frame[5]
	assert.Equal(t, byte(0x40), flg&0xc0, "version 01")
	assert.Equal(t, byte(0x20), flg&0x20, "independent blocks")
	assert.Equal(t, byte(0x40), bd, "64 KiB blocks")
}

func TestZeroAllocs(t *testing.T) {
	b := mustBuild(t, BuildOptions{Compression: Snappy}, sampleRecords(100)...)
	var err error
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, err = Validate(b) }))
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		SetBaseOffset(b, 99)
		SetPartitionLeaderEpoch(b, 3)
	}))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _, err = Next(b) }))
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, err = ParseHeader(b) }))
	require.NoError(t, err)

	// Decoding an uncompressed batch with a reused Reader and Record
	// allocates only header keys.
	plain := mustBuild(t, BuildOptions{}, sampleRecords(4)...)
	var r Reader
	var rec Record
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_ = r.Reset(plain)
		for err == nil {
			err = r.Next(&rec)
		}
		err = nil
	}))
}

package txn

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, m := range []Metadata{
		{TransactionalID: "ongoing", ProducerID: 5, PrevProducerID: 4, Epoch: 3, LastEpoch: NoEpoch,
			Timeout: 90 * time.Second, State: Ongoing, Partitions: map[Partition]struct{}{a0: {}, a1: {}, b0: {}},
			Started: t0, LastUpdate: t0.Add(time.Second)},
		{TransactionalID: "idle", ProducerID: 6, PrevProducerID: NoProducerID, NextProducerID: NoProducerID, Epoch: 0, LastEpoch: NoEpoch,
			Timeout: time.Minute, State: CompleteAbort, LastUpdate: t0},
	} {
		got, err := Unmarshal(MarshalKey(m.TransactionalID), MarshalValue(m))
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
}

// TestRecordIsKafkas: the bytes are kmsg's TxnMetadataKey and
// TxnMetadataValue, which Kafka's own tools read.
func TestRecordIsKafkas(t *testing.T) {
	m := Metadata{TransactionalID: "x", ProducerID: 5, PrevProducerID: NoProducerID, NextProducerID: NoProducerID, Epoch: 3,
		Timeout: time.Minute, State: PrepareCommit, Partitions: map[Partition]struct{}{b0: {}, a1: {}, a0: {}},
		Started: t0, LastUpdate: t0}
	k := kmsg.NewTxnMetadataKey()
	require.NoError(t, k.ReadFrom(MarshalKey("x")))
	assert.Equal(t, "x", k.TransactionalID)
	v := kmsg.NewTxnMetadataValue()
	require.NoError(t, v.ReadFrom(MarshalValue(m)))
	assert.Equal(t, [6]any{int64(5), int16(3), int32(60_000), kmsg.TransactionStatePrepareCommit, t0.UnixMilli(), t0.UnixMilli()},
		[6]any{v.ProducerID, v.ProducerEpoch, v.TimeoutMillis, v.State, v.StartTimestamp, v.LastUpdateTimestamp})
	require.Len(t, v.Topics, 2)
	assert.Equal(t, [2]any{"a", []int32{0, 1}}, [2]any{v.Topics[0].Topic, v.Topics[0].Partitions}, "by topic and partition")
	assert.Equal(t, "b", v.Topics[1].Topic)
}

func TestUnmarshalRefusesWhatKafkaWouldNotWrite(t *testing.T) {
	good := Metadata{TransactionalID: "x", ProducerID: 5, PrevProducerID: NoProducerID, NextProducerID: NoProducerID, Epoch: 3, LastEpoch: NoEpoch,
		Timeout: time.Minute, State: Empty, LastUpdate: t0}
	value := func(edit func(v *kmsg.TxnMetadataValue)) []byte {
		v := kmsg.NewTxnMetadataValue()
		require.NoError(t, v.ReadFrom(MarshalValue(good)))
		edit(&v)
		return v.AppendTo(nil)
	}
	key := MarshalKey("x")
	for name, tc := range map[string]struct{ key, value []byte }{
		"a short key":      {key[:3], MarshalValue(good)},
		"a key version":    {append([]byte{0, 1}, key[2:]...), MarshalValue(good)},
		"a short value":    {key, MarshalValue(good)[:10]},
		"a value version":  {key, value(func(v *kmsg.TxnMetadataValue) { v.Version = 2 })},
		"an unknown state": {key, value(func(v *kmsg.TxnMetadataValue) { v.State = 9 })},
		"Dead as a value":  {key, value(func(v *kmsg.TxnMetadataValue) { v.State = kmsg.TransactionStateDead })},
		"no producer":      {key, value(func(v *kmsg.TxnMetadataValue) { v.ProducerID = -1 })},
		"no timeout":       {key, value(func(v *kmsg.TxnMetadataValue) { v.TimeoutMillis = 0 })},
	} {
		_, err := Unmarshal(tc.key, tc.value)
		assert.Error(t, err, name)
	}
	m, err := Unmarshal(key, value(func(v *kmsg.TxnMetadataValue) { v.Version = 0 }))
	require.NoError(t, err, "version 0, as Kafka writes for its first transaction version")
	assert.Equal(t, good, m)
}

// FuzzUnmarshal: any bytes give a record or an error, never a panic, and
// a record decoded is written back as the same record.
func FuzzUnmarshal(f *testing.F) {
	m := Metadata{TransactionalID: "x", ProducerID: 5, PrevProducerID: 2, Epoch: 3, LastEpoch: NoEpoch,
		Timeout: time.Minute, State: Ongoing, Partitions: map[Partition]struct{}{a0: {}}, Started: t0, LastUpdate: t0}
	f.Add(MarshalKey("x"), MarshalValue(m))
	f.Add(MarshalKey("x"), []byte(nil))
	f.Add([]byte{0, 0, 0, 1, 'x'}, []byte{0, 0})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		got, err := Unmarshal(key, value)
		if err != nil {
			return
		}
		again, err := Unmarshal(MarshalKey(got.TransactionalID), MarshalValue(got))
		require.NoError(t, err)
		assert.Equal(t, got, again)
	})
}

package txn

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A transactional ID's record in __transaction_state is Kafka's: the key
// is kmsg's TxnMetadataKey (version 0: the ID), the value its
// TxnMetadataValue, written at version 1 (flexible), whose tagged
// PreviousProducerID keeps the ID before a rotation and NextProducerID the
// ID an end of transaction version 2 rotates to. A tombstone (no
// value) removes the ID. LastEpoch is not in Kafka's record and is not
// kept: after a restart or a move of the coordinator, a retry of an
// InitProducerID that bumped the epoch is fenced, as in Kafka.

// valueVersion is the version of the values written.
const valueVersion = 1

// MarshalKey returns the record key of a transactional ID.
func MarshalKey(id string) []byte {
	k := kmsg.NewTxnMetadataKey()
	k.TransactionalID = id
	return k.AppendTo(nil)
}

// MarshalValue returns m's record value, nil for Dead (a tombstone).
func MarshalValue(m Metadata) []byte {
	if m.State == Dead {
		return nil
	}
	v := kmsg.NewTxnMetadataValue()
	v.Version = valueVersion
	v.ProducerID, v.ProducerEpoch = m.ProducerID, m.Epoch
	v.PreviousProducerID, v.NextProducerID = m.PrevProducerID, m.NextProducerID
	v.TimeoutMillis = int32(m.Timeout / time.Millisecond)
	v.State = m.State
	byTopic := map[string]int{}
	for _, p := range m.SortedPartitions() {
		i, ok := byTopic[p.Topic]
		if !ok {
			i = len(v.Topics)
			byTopic[p.Topic] = i
			t := kmsg.NewTxnMetadataValueTopic()
			t.Topic = p.Topic
			v.Topics = append(v.Topics, t)
		}
		v.Topics[i].Partitions = append(v.Topics[i].Partitions, p.Partition)
	}
	v.LastUpdateTimestamp = m.LastUpdate.UnixMilli()
	v.StartTimestamp = -1
	if !m.Started.IsZero() {
		v.StartTimestamp = m.Started.UnixMilli()
	}
	return v.AppendTo(nil)
}

// Unmarshal decodes a record of __transaction_state: the ID's metadata,
// State Dead for a tombstone. It does not retain its arguments.
func Unmarshal(key, value []byte) (Metadata, error) {
	k := kmsg.NewTxnMetadataKey()
	if err := k.ReadFrom(key); err != nil {
		return Metadata{}, fmt.Errorf("txn: bad record key: %w", err)
	}
	if k.Version != 0 {
		return Metadata{}, fmt.Errorf("txn: record key version %d", k.Version)
	}
	m := Metadata{TransactionalID: k.TransactionalID, ProducerID: NoProducerID, PrevProducerID: NoProducerID,
		NextProducerID: NoProducerID, Epoch: NoEpoch, LastEpoch: NoEpoch, State: Dead}
	if value == nil {
		return m, nil
	}
	v := kmsg.NewTxnMetadataValue()
	if err := v.ReadFrom(value); err != nil {
		return Metadata{}, fmt.Errorf("txn: bad record value of %q: %w", m.TransactionalID, err)
	}
	switch {
	case v.Version < 0 || v.Version > valueVersion:
		return Metadata{}, fmt.Errorf("txn: record value version %d of %q", v.Version, m.TransactionalID)
	case v.State < Empty || v.State > PrepareEpochFence:
		return Metadata{}, fmt.Errorf("txn: record of %q has state %d", m.TransactionalID, v.State)
	case v.State == Dead:
		return Metadata{}, fmt.Errorf("txn: record of %q is Dead as a value, not a tombstone", m.TransactionalID)
	case v.ProducerID < 0 || v.TimeoutMillis <= 0:
		return Metadata{}, fmt.Errorf("txn: record of %q has producer ID %d, timeout %d ms", m.TransactionalID, v.ProducerID, v.TimeoutMillis)
	}
	if v.Version == 0 {
		v.PreviousProducerID, v.NextProducerID = NoProducerID, NoProducerID
	}
	if v.NextProducerID < NoProducerID {
		return Metadata{}, fmt.Errorf("txn: record of %q has next producer ID %d", m.TransactionalID, v.NextProducerID)
	}
	m.ProducerID, m.PrevProducerID, m.NextProducerID = v.ProducerID, v.PreviousProducerID, v.NextProducerID
	m.Epoch, m.State = v.ProducerEpoch, v.State
	m.Timeout = time.Duration(v.TimeoutMillis) * time.Millisecond
	m.LastUpdate = time.UnixMilli(v.LastUpdateTimestamp)
	if v.StartTimestamp >= 0 {
		m.Started = time.UnixMilli(v.StartTimestamp)
	}
	for _, t := range v.Topics {
		for _, p := range t.Partitions {
			if m.Partitions == nil {
				m.Partitions = map[Partition]struct{}{}
			}
			m.Partitions[Partition{t.Topic, p}] = struct{}{}
		}
	}
	return m, nil
}

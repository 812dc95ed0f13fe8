// Partitioner: how a producer picks each record's partition (Kafka's,
// round-robin, manual).

package creek

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// A Partitioner chooses the partition of each record a producer sends. It
// is called from many goroutines at once.
type Partitioner interface {
	// Partition returns the partition of r among partitions (at least 1),
	// a number in [0, partitions).
	Partition(r *Record, partitions int32) int32
}

// PartitionerFunc adapts a function to a Partitioner.
type PartitionerFunc func(r *Record, partitions int32) int32

// Partition calls f.
func (f PartitionerFunc) Partition(r *Record, partitions int32) int32 { return f(r, partitions) }

// HashPartition returns the partition Kafka's default partitioner gives a
// key: murmur2 of the key, made positive, modulo the partition count. Java
// clients, franz-go, librdkafka (with its murmur2 setting) and creek all send
// a key to the same partition.
func HashPartition(key []byte, partitions int32) int32 {
	return (murmur2(key) & 0x7fffffff) % partitions
}

// murmur2 is Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2),
// with its seed, on 32-bit words read little-endian.
func murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(data))
	for len(data) >= 4 {
		k := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h = h*m ^ k
		data = data[4:]
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// DefaultStickyBytes is how much a sticky partitioner sends to one
// partition before it moves on: Kafka's batch.size.
const DefaultStickyBytes = 16 << 10

// KafkaPartitioner returns Kafka's default partitioner: a keyed record goes
// to HashPartition of its key; unkeyed records stick to one partition until
// stickyBytes of them went there (KIP-794's uniform sticky partitioner, so
// batches fill up), then move to another chosen at random. stickyBytes 0
// means DefaultStickyBytes.
func KafkaPartitioner(stickyBytes int) Partitioner {
	if stickyBytes <= 0 {
		stickyBytes = DefaultStickyBytes
	}
	return &kafkaPartitioner{stickyBytes: stickyBytes, sticky: map[string]*stickyState{}}
}

type kafkaPartitioner struct {
	stickyBytes int
	mu          sync.Mutex
	sticky      map[string]*stickyState // by topic
}

type stickyState struct {
	partition int32
	bytes     int
}

func (p *kafkaPartitioner) Partition(r *Record, partitions int32) int32 {
	if r.Key != nil {
		return HashPartition(r.Key, partitions)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sticky[r.Topic]
	if s == nil || s.partition >= partitions || s.bytes >= p.stickyBytes {
		s = &stickyState{partition: nextSticky(s, partitions)}
		p.sticky[r.Topic] = s
	}
	s.bytes += len(r.Value) + len(r.Key)
	return s.partition
}

// nextSticky picks a partition at random, other than the current one when
// there is a choice.
func nextSticky(s *stickyState, partitions int32) int32 {
	if partitions == 1 {
		return 0
	}
	next := rand.Int32N(partitions)
	if s != nil && next == s.partition {
		next = (next + 1 + rand.Int32N(partitions-1)) % partitions
	}
	return next
}

// RoundRobinPartitioner returns a partitioner that sends each record to the
// next partition in turn, keyed or not.
func RoundRobinPartitioner() Partitioner { return new(roundRobin) }

type roundRobin struct{ next atomic.Uint32 }

func (p *roundRobin) Partition(_ *Record, partitions int32) int32 {
	return int32((p.next.Add(1) - 1) % uint32(partitions))
}

// ManualPartitioner returns a partitioner that keeps Record.Partition. A
// partition outside the topic gives ErrUnknownTopic when the record is sent.
func ManualPartitioner() Partitioner {
	return PartitionerFunc(func(r *Record, _ int32) int32 { return r.Partition })
}

package creek

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Kafka's own vectors, from UtilsTest.testMurmur2 in the Java client: creek
// must hash keys as every other Kafka client does.
func TestMurmur2KafkaVectors(t *testing.T) {
	for key, want := range map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	} {
		assert.Equal(t, want, murmur2([]byte(key)), key)
	}
}

func TestHashPartition(t *testing.T) {
	// (murmur2("21") & 0x7fffffff) % 10 = 1173551340 % 10
	assert.Equal(t, int32(0), HashPartition([]byte("21"), 10))
	for i := range 1000 {
		p := HashPartition(fmt.Appendf(nil, "key-%d", i), 7)
		assert.True(t, p >= 0 && p < 7)
	}
}

func TestKafkaPartitioner(t *testing.T) {
	p := KafkaPartitioner(100)
	keyed := &Record{Topic: "t", Key: []byte("foobar")}
	assert.Equal(t, HashPartition([]byte("foobar"), 12), p.Partition(keyed, 12), "keyed records hash")

	// Unkeyed records stick to a partition for 100 bytes, then move on.
	counts := map[int32]int{}
	var switches int
	last := int32(-1)
	for range 1000 {
		got := p.Partition(&Record{Topic: "t", Value: make([]byte, 10)}, 12)
		counts[got]++
		if got != last {
			switches++
			last = got
		}
	}
	assert.Equal(t, 100, switches, "a new partition every 10 records of 10 bytes")
	assert.Greater(t, len(counts), 6, "spread over the partitions")
	assert.Equal(t, int32(0), p.Partition(&Record{Topic: "one"}, 1))
}

func TestRoundRobinAndManualPartitioners(t *testing.T) {
	rr := RoundRobinPartitioner()
	var got []int32
	for range 7 {
		got = append(got, rr.Partition(&Record{Key: []byte("same")}, 3))
	}
	assert.Equal(t, []int32{0, 1, 2, 0, 1, 2, 0}, got)
	assert.Equal(t, int32(5), ManualPartitioner().Partition(&Record{Partition: 5}, 8))
	custom := PartitionerFunc(func(r *Record, n int32) int32 { return int32(len(r.Value)) % n })
	assert.Equal(t, int32(2), custom.Partition(&Record{Value: []byte("ab")}, 4))
}

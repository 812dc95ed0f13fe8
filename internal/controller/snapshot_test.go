package controller

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenSnapshot is the exact bytes EncodeSnapshot wrote for goldenMetadata
// when it framed the snapshot by hand: the format, which it must still
// write and DecodeSnapshot still read.
const goldenSnapshot = "63726b6d017b22746f70696373223a7b226f7264657273223a7b226e616d65223a226f7264657273222c226964223a5b392c382c372c302c302c302c302c302c302c302c302c302c302c302c302c305d2c22636f6e66696773223a7b22726574656e74696f6e2e6d73223a223630303030227d2c22706172746974696f6e73223a5b7b227265706c69636173223a5b312c322c335d2c226c6561646572223a312c226c656164657245706f6368223a342c22697372223a5b312c325d7d2c7b227265706c69636173223a5b322c332c345d2c226c6561646572223a2d312c226c656164657245706f6368223a372c22697372223a5b325d2c22616464696e67223a5b345d2c2272656d6f76696e67223a5b315d7d5d7d7d2c2264656c65746564223a5b7b226e616d65223a22676f6e65222c226964223a5b312c302c302c302c302c302c302c302c302c302c302c302c302c302c302c305d7d5d2c226e6f646573223a7b2231223a31312c2232223a31327d7d16a1c7a0"

func goldenMetadata() *Metadata {
	return &Metadata{
		Topics: map[string]*Topic{
			"orders": {Name: "orders", ID: [16]byte{9, 8, 7}, Configs: map[string]string{"retention.ms": "60000"},
				Partitions: []Partition{
					{Replicas: []int32{1, 2, 3}, Leader: 1, LeaderEpoch: 4, ISR: []int32{1, 2}},
					{Replicas: []int32{2, 3, 4}, Leader: -1, LeaderEpoch: 7, ISR: []int32{2}, Adding: []int32{4}, Removing: []int32{1}},
				}},
		},
		Deleted: []DeletedTopic{{Name: "gone", ID: [16]byte{1}}},
		Nodes:   map[int32]uint64{1: 11, 2: 12},
	}
}

func TestSnapshotGolden(t *testing.T) {
	golden, err := hex.DecodeString(goldenSnapshot)
	require.NoError(t, err)
	b, err := EncodeSnapshot(goldenMetadata())
	require.NoError(t, err)
	assert.Equal(t, golden, b)
	got, err := DecodeSnapshot(golden)
	require.NoError(t, err)
	assert.Equal(t, goldenMetadata(), got)
}

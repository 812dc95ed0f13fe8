package membership

import (
	"encoding/json"
	"errors"
	"fmt"
)

// metaVersion is the format of the metadata a node gossips. Part of the
// format: a change adds a version and still reads this one.
const metaVersion = 1

// maxMetaBytes bounds the metadata, below memberlist's 512-byte limit.
const maxMetaBytes = 400

// nodeMeta is what a node gossips about itself: a version byte, then JSON.
type nodeMeta struct {
	NodeID    int32  `json:"id"`
	KafkaAddr string `json:"kafka"`
	// Listeners are the advertised addresses of the node's listeners, by
	// name; a node from before listeners had names gossips none, and is
	// reached at KafkaAddr on every listener.
	Listeners map[string]string `json:"ls,omitempty"`
	Rack      string            `json:"rack,omitempty"`
	RaftAddr  string            `json:"raft,omitempty"`
	// Incarnation tells one start of the node's process from the next.
	Incarnation uint64 `json:"inc,omitempty"`
}

var errBadMeta = errors.New("membership: malformed node metadata")

func encodeMeta(m nodeMeta) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := append([]byte{metaVersion}, b...)
	if len(out) > maxMetaBytes {
		return nil, fmt.Errorf("node metadata of %d bytes; at most %d: shorten the Kafka addresses, listener names or rack", len(out), maxMetaBytes)
	}
	return out, nil
}

func decodeMeta(b []byte) (nodeMeta, error) {
	var m nodeMeta
	if len(b) == 0 || len(b) > maxMetaBytes || b[0] != metaVersion {
		return m, fmt.Errorf("%w: %d bytes", errBadMeta, len(b))
	}
	if err := json.Unmarshal(b[1:], &m); err != nil {
		return m, fmt.Errorf("%w: %v", errBadMeta, err)
	}
	if m.NodeID < 0 || m.KafkaAddr == "" {
		return m, fmt.Errorf("%w: node %d at %q", errBadMeta, m.NodeID, m.KafkaAddr)
	}
	return m, nil
}

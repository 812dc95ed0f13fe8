// The topic registry file: a node's topics, their IDs, partition counts and
// configs.

package creek

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
)

// The topic registry records which topics a node has, with their IDs,
// partition counts and explicitly set configs. Layout, big-endian:
//
//	+-----------+-------------+------------+----------------------+-------------+
//	| magic (4) | version (2) | length (4) | JSON (length bytes)  | CRC-32C (4) |
//	+-----------+-------------+------------+----------------------+-------------+
//
// The frame (magic, version, CRC of the bytes before it) is
// internal/framefile's; the length and the JSON are the registry's body.
// The file is replaced atomically on every change; the partition
// directories hold the data.
const (
	registryName       = "creek.topics"
	registryMagic      = 0x63726b74 // "crkt"
	registryVersion    = 1
	registryLengthSize = 4
	registryMaxBytes   = 64 << 20
)

var registryFormat = framefile.Format{Name: "topic registry", Magic: registryMagic,
	VersionWidth: framefile.Version16, Oldest: registryVersion, Current: registryVersion}

type registryTopic struct {
	Name       string            `json:"name"`
	ID         [16]byte          `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
	Adopt      bool              `json:"adopt,omitempty"` // see adopt.go
}

type registry struct {
	Topics []registryTopic `json:"topics"`
	// NextProducerID is the first producer ID not yet handed out; IDs are
	// handed out in blocks, each recorded here before its first use.
	NextProducerID int64 `json:"nextProducerId,omitempty"`
}

func (r registry) marshal() ([]byte, error) {
	topics, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	body := make([]byte, registryLengthSize, registryLengthSize+len(topics))
	binary.BigEndian.PutUint32(body, uint32(len(topics)))
	return registryFormat.Seal(append(body, topics...)), nil
}

func unmarshalRegistry(b []byte) (registry, error) {
	var r registry
	_, body, err := registryFormat.Open(b)
	if err != nil {
		return r, err
	}
	if len(body) < registryLengthSize {
		return r, fmt.Errorf("topic registry is %d bytes, too short for its length field", len(b))
	}
	topics := body[registryLengthSize:]
	if n := int64(binary.BigEndian.Uint32(body)); n != int64(len(topics)) {
		return r, fmt.Errorf("topic registry says %d bytes of topics and holds %d", n, len(topics))
	}
	if err := json.Unmarshal(topics, &r); err != nil {
		return r, fmt.Errorf("topic registry: %w", err)
	}
	if r.NextProducerID < 0 {
		return registry{}, fmt.Errorf("topic registry holds a negative producer ID %d", r.NextProducerID)
	}
	seen := map[string]bool{}
	for _, t := range r.Topics {
		if err := validateTopicName(t.Name); err != nil || seen[t.Name] || t.Partitions < 1 {
			return registry{}, fmt.Errorf("topic registry holds a bad topic %q (%d partitions)", t.Name, t.Partitions)
		}
		seen[t.Name] = true
	}
	return r, nil
}

// readRegistry returns the registry in dir; none is an empty registry.
func readRegistry(fs fsx.FS, dir string) (registry, error) {
	b, err := framefile.ReadFile(fs, filepath.Join(dir, registryName), registryMaxBytes)
	if errors.Is(err, os.ErrNotExist) {
		return registry{}, nil
	}
	if err != nil {
		return registry{}, err
	}
	r, err := unmarshalRegistry(b)
	if err != nil {
		return registry{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return r, nil
}

func writeRegistry(fs fsx.FS, dir string, r registry) error {
	b, err := r.marshal()
	if err != nil {
		return err
	}
	return framefile.WriteAtomic(fs, dir, registryName, b)
}

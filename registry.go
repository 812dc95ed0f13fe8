package creek

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/creekmq/creek/internal/fsx"
)

// The topic registry records which topics a node has, with their IDs,
// partition counts and explicitly set configs. Layout, big-endian:
//
//	+-----------+-------------+------------+----------------------+-------------+
//	| magic (4) | version (2) | length (4) | JSON (length bytes)  | CRC-32C (4) |
//	+-----------+-------------+------------+----------------------+-------------+
//
// The CRC covers the bytes before it. The file is replaced atomically on
// every change; the partition directories hold the data.
const (
	registryName     = "creek.topics"
	registryMagic    = 0x63726b74 // "crkt"
	registryVersion  = 1
	registryHeader   = 4 + 2 + 4
	registryMaxBytes = 64 << 20
)

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
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	b := make([]byte, registryHeader, registryHeader+len(body)+4)
	binary.BigEndian.PutUint32(b[0:], registryMagic)
	binary.BigEndian.PutUint16(b[4:], registryVersion)
	binary.BigEndian.PutUint32(b[6:], uint32(len(body)))
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

func unmarshalRegistry(b []byte) (registry, error) {
	var r registry
	if len(b) < registryHeader+4 {
		return r, fmt.Errorf("topic registry is %d bytes, shorter than its frame", len(b))
	}
	if binary.BigEndian.Uint32(b) != registryMagic {
		return r, errors.New("topic registry has a bad magic number")
	}
	if v := binary.BigEndian.Uint16(b[4:]); v != registryVersion {
		return r, fmt.Errorf("topic registry version %d is unknown", v)
	}
	if n := int64(binary.BigEndian.Uint32(b[6:])); n != int64(len(b)-registryHeader-4) {
		return r, fmt.Errorf("topic registry says %d bytes of topics and holds %d", n, len(b)-registryHeader-4)
	}
	end := len(b) - 4
	if binary.BigEndian.Uint32(b[end:]) != crc32.Checksum(b[:end], castagnoli) {
		return r, errors.New("topic registry fails its CRC")
	}
	if err := json.Unmarshal(b[registryHeader:end], &r); err != nil {
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
	b, err := readFile(fs, filepath.Join(dir, registryName), registryMaxBytes)
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
	return writeFileAtomic(fs, dir, registryName, b)
}

package controller

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
)

// Snapshot layout: magic (4 bytes), version (1), JSON metadata, CRC-32C of
// everything before it (4). Part of the format: never change it; a new
// version adds a case and still reads this one.
const (
	snapshotMagic   = 0x63726b6d // "crkm"
	snapshotVersion = 1
)

// ErrBadSnapshot marks bytes that are not a metadata snapshot.
var ErrBadSnapshot = errors.New("controller: malformed metadata snapshot")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeSnapshot encodes the metadata for a Raft snapshot.
func EncodeSnapshot(m *Metadata) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	b := binary.BigEndian.AppendUint32(nil, snapshotMagic)
	b = append(b, snapshotVersion)
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// DecodeSnapshot decodes a snapshot, checking its CRC first.
func DecodeSnapshot(b []byte) (*Metadata, error) {
	if len(b) < 9 || binary.BigEndian.Uint32(b) != snapshotMagic || b[4] != snapshotVersion {
		return nil, fmt.Errorf("%w: bad header", ErrBadSnapshot)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: CRC mismatch", ErrBadSnapshot)
	}
	m := &Metadata{}
	if err := json.Unmarshal(body[5:], m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	if m.Topics == nil {
		m.Topics = map[string]*Topic{}
	}
	for name, t := range m.Topics {
		if t == nil || t.Name != name || len(t.Partitions) == 0 {
			return nil, fmt.Errorf("%w: topic %q", ErrBadSnapshot, name)
		}
	}
	return m, nil
}

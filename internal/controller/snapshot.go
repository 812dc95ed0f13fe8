package controller

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/creekmq/creek/internal/framefile"
)

// Snapshot layout: magic (4 bytes), version (1), JSON metadata, CRC-32C of
// everything before it (4); the frame is internal/framefile's. Part of the
// format: never change it; a new version raises Current and still reads
// this one.
const (
	snapshotMagic   = 0x63726b6d // "crkm"
	snapshotVersion = 1
)

var snapshotFormat = framefile.Format{Name: "metadata snapshot", Magic: snapshotMagic,
	VersionWidth: framefile.Version8, Oldest: snapshotVersion, Current: snapshotVersion}

// ErrBadSnapshot marks bytes that are not a metadata snapshot.
var ErrBadSnapshot = errors.New("controller: malformed metadata snapshot")

// EncodeSnapshot encodes the metadata for a Raft snapshot.
func EncodeSnapshot(m *Metadata) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return snapshotFormat.Seal(body), nil
}

// DecodeSnapshot decodes a snapshot, checking its frame and CRC first.
// Errors match ErrBadSnapshot.
func DecodeSnapshot(b []byte) (*Metadata, error) {
	_, body, err := snapshotFormat.Open(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	m := &Metadata{}
	if err := json.Unmarshal(body, m); err != nil {
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

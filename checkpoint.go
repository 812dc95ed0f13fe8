package creek

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/creekmq/creek/internal/fsx"
)

// The checkpoint file records what recovery may trust. Layout, big-endian:
//
//	+-----------+-------------+--------------------+----------------------+--------------------+-------------+
//	| magic (4) | version (2) | recovery point (8) | log start offset (8) | cleaned offset (8) | CRC-32C (4) |
//	+-----------+-------------+--------------------+----------------------+--------------------+-------------+
//
// Every batch below the recovery point was synced and validated; recovery
// scans only from there. The log start offset is where DeleteRecords or
// retention left the log. Compaction has cleaned every segment below the
// cleaned offset; the segments above it are dirty. The CRC covers the bytes
// before it.
const (
	checkpointName    = "creek.checkpoint"
	checkpointMagic   = 0x63726b63 // "crkc"
	checkpointVersion = 1
	checkpointSize    = 4 + 2 + 8 + 8 + 8 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errNoCheckpoint reports a log directory without a checkpoint file.
var errNoCheckpoint = errors.New("no checkpoint")

type checkpoint struct {
	recoveryPoint  int64
	logStartOffset int64
	cleanedOffset  int64
}

func (c checkpoint) marshal() []byte {
	b := make([]byte, checkpointSize)
	binary.BigEndian.PutUint32(b[0:], checkpointMagic)
	binary.BigEndian.PutUint16(b[4:], checkpointVersion)
	binary.BigEndian.PutUint64(b[6:], uint64(c.recoveryPoint))
	binary.BigEndian.PutUint64(b[14:], uint64(c.logStartOffset))
	binary.BigEndian.PutUint64(b[22:], uint64(c.cleanedOffset))
	binary.BigEndian.PutUint32(b[30:], crc32.Checksum(b[:30], castagnoli))
	return b
}

func unmarshalCheckpoint(b []byte) (checkpoint, error) {
	switch {
	case len(b) != checkpointSize:
		return checkpoint{}, fmt.Errorf("checkpoint is %d bytes, want %d", len(b), checkpointSize)
	case binary.BigEndian.Uint32(b[0:]) != checkpointMagic:
		return checkpoint{}, errors.New("checkpoint has a bad magic number")
	case binary.BigEndian.Uint16(b[4:]) != checkpointVersion:
		return checkpoint{}, fmt.Errorf("checkpoint version %d is unknown", binary.BigEndian.Uint16(b[4:]))
	case binary.BigEndian.Uint32(b[30:]) != crc32.Checksum(b[:30], castagnoli):
		return checkpoint{}, errors.New("checkpoint fails its CRC")
	}
	c := checkpoint{
		recoveryPoint:  int64(binary.BigEndian.Uint64(b[6:])),
		logStartOffset: int64(binary.BigEndian.Uint64(b[14:])),
		cleanedOffset:  int64(binary.BigEndian.Uint64(b[22:])),
	}
	if c.recoveryPoint < 0 || c.logStartOffset < 0 || c.cleanedOffset < 0 {
		return checkpoint{}, errors.New("checkpoint holds a negative offset")
	}
	return c, nil
}

// readCheckpoint returns the directory's checkpoint, and errNoCheckpoint
// when there is none. A damaged one is reported to the caller, who logs it
// and validates everything: the segments are the truth.
func readCheckpoint(fs fsx.FS, dir string) (checkpoint, error) {
	b, err := readFile(fs, filepath.Join(dir, checkpointName), checkpointSize+1)
	if errors.Is(err, os.ErrNotExist) {
		return checkpoint{}, errNoCheckpoint
	}
	if err != nil {
		return checkpoint{}, err
	}
	return unmarshalCheckpoint(b)
}

// writeCheckpoint replaces the checkpoint atomically.
func writeCheckpoint(fs fsx.FS, dir string, c checkpoint) error {
	return writeFileAtomic(fs, dir, checkpointName, c.marshal())
}

// A log's checkpoint file: recovery point, log start offset and cleaned
// offset.

package creek

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creekmq/creek/internal/framefile"
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
// cleaned offset; the segments above it are dirty. The frame (magic,
// version, CRC of the bytes before it) is internal/framefile's.
const (
	checkpointName    = "creek.checkpoint"
	checkpointMagic   = 0x63726b63 // "crkc"
	checkpointVersion = 1
	checkpointBody    = 8 + 8 + 8 // the three offsets
)

var checkpointFormat = framefile.Format{Name: "checkpoint", Magic: checkpointMagic,
	VersionWidth: framefile.Version16, Oldest: checkpointVersion, Current: checkpointVersion}

// errNoCheckpoint reports a log directory without a checkpoint file.
var errNoCheckpoint = errors.New("no checkpoint")

type checkpoint struct {
	recoveryPoint  int64
	logStartOffset int64
	cleanedOffset  int64
}

func (c checkpoint) marshal() []byte {
	body := make([]byte, 0, checkpointBody)
	body = binary.BigEndian.AppendUint64(body, uint64(c.recoveryPoint))
	body = binary.BigEndian.AppendUint64(body, uint64(c.logStartOffset))
	body = binary.BigEndian.AppendUint64(body, uint64(c.cleanedOffset))
	return checkpointFormat.Seal(body)
}

func unmarshalCheckpoint(b []byte) (checkpoint, error) {
	if want := checkpointFormat.Size(checkpointBody); len(b) != want {
		return checkpoint{}, fmt.Errorf("checkpoint is %d bytes, want %d", len(b), want)
	}
	_, body, err := checkpointFormat.Open(b)
	if err != nil {
		return checkpoint{}, err
	}
	c := checkpoint{
		recoveryPoint:  int64(binary.BigEndian.Uint64(body[0:])),
		logStartOffset: int64(binary.BigEndian.Uint64(body[8:])),
		cleanedOffset:  int64(binary.BigEndian.Uint64(body[16:])),
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
	b, err := framefile.ReadFile(fs, filepath.Join(dir, checkpointName), int64(checkpointFormat.Size(checkpointBody))+1)
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
	return framefile.WriteAtomic(fs, dir, checkpointName, c.marshal())
}

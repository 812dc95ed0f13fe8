// A segment's sparse offset index: relative offset to file position.

package creek

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/creekmq/creek/internal/fsx"
)

// Offset index entry layout, Kafka's widths. Part of the format.
//
//	+----------------------+----------------------+
//	| relative offset (4)  | file position (4)    |   big-endian
//	+----------------------+----------------------+
//
// The relative offset is a batch's base offset minus the segment's base
// offset; the position is where that batch starts in the .log file. Entries
// are sparse: one every IndexIntervalBytes of log.
const offsetIndexEntrySize = 8

type offsetEntry struct {
	relOffset uint32
	position  uint32
}

// offsetIndex maps offsets to file positions for one segment. The entries
// live in memory and in the .index file; the file is written as entries are
// added and is rebuilt from the log whenever it cannot be trusted.
type offsetIndex struct {
	file fsx.File
	base int64

	mu      sync.RWMutex // readers search while the appender adds
	entries []offsetEntry
	scratch [offsetIndexEntrySize]byte // appender only
}

// lookup returns the position of the last indexed batch whose base offset
// is at or below offset: a batch holding offset starts there or later.
func (x *offsetIndex) lookup(offset int64) int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	rel := offset - x.base
	i := sort.Search(len(x.entries), func(i int) bool { return int64(x.entries[i].relOffset) > rel })
	if i == 0 {
		return 0
	}
	return int64(x.entries[i-1].position)
}

// last returns the newest entry, and false when there is none.
func (x *offsetIndex) last() (offsetEntry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.entries) == 0 {
		return offsetEntry{}, false
	}
	return x.entries[len(x.entries)-1], true
}

// append adds an entry for the batch at position with the given base offset.
func (x *offsetIndex) append(baseOffset, position int64) error {
	e := offsetEntry{relOffset: uint32(baseOffset - x.base), position: uint32(position)}
	binary.BigEndian.PutUint32(x.scratch[0:], e.relOffset)
	binary.BigEndian.PutUint32(x.scratch[4:], e.position)
	x.mu.Lock()
	n := len(x.entries)
	x.entries = append(x.entries, e)
	x.mu.Unlock()
	if _, err := x.file.WriteAt(x.scratch[:], int64(n)*offsetIndexEntrySize); err != nil {
		return fmt.Errorf("write %s: %w", x.file.Name(), err)
	}
	return nil
}

// truncateAfter drops the entries for batches at or after position.
func (x *offsetIndex) truncateAfter(position int64) error {
	x.mu.Lock()
	i := sort.Search(len(x.entries), func(i int) bool { return int64(x.entries[i].position) >= position })
	x.entries = x.entries[:i]
	x.mu.Unlock()
	return x.file.Truncate(int64(i) * offsetIndexEntrySize)
}

// reset drops every entry, before a rebuild.
func (x *offsetIndex) reset() error { return x.truncateAfter(0) }

// load reads the index file and reports whether its entries are consistent
// with a log of logSize bytes: whole entries, offsets and positions strictly
// increasing, positions inside the log. An inconsistent index is left empty
// for the caller to rebuild.
func (x *offsetIndex) load(logSize int64) (ok bool, err error) {
	size, err := x.file.Size()
	if err != nil {
		return false, err
	}
	if size%offsetIndexEntrySize != 0 || size/offsetIndexEntrySize > logSize/batchMinSize+1 {
		return false, x.reset()
	}
	buf := make([]byte, size)
	if n, err := x.file.ReadAt(buf, 0); n < len(buf) {
		return false, fmt.Errorf("read %s: %w", x.file.Name(), err)
	}
	entries := make([]offsetEntry, 0, size/offsetIndexEntrySize)
	for b := buf; len(b) > 0; b = b[offsetIndexEntrySize:] {
		e := offsetEntry{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])}
		if n := len(entries); n > 0 && (e.relOffset <= entries[n-1].relOffset || e.position <= entries[n-1].position) {
			return false, x.reset()
		}
		if int64(e.position) >= logSize {
			return false, x.reset()
		}
		entries = append(entries, e)
	}
	x.mu.Lock()
	x.entries = entries
	x.mu.Unlock()
	return true, nil
}

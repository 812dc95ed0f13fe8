// Raft's log and stable store, kept in a creek Log and a framed file.

package creek

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
)

// raftStore keeps the controller's Raft log in a creek Log, and Raft's few
// stable values (current term, last vote) in a small file beside it.
//
// Why a creek Log and not a store such as raft-boltdb: KRaft keeps Kafka's
// metadata in a log of its own for the same reason. The Log already has
// what a Raft log needs — checksummed batches, torn-tail recovery, group
// commit, prefix deletion (DeleteRecordsBefore, for compaction after a
// snapshot) and suffix truncation (Truncate, for a follower whose log
// diverged) — so the controller needs no other storage engine, and its
// durability is the one the rest of creek is tested for.
//
// Each entry is one batch of one record, so truncation and deletion fall on
// entry boundaries. The record at offset o holds the entry of index
// o + base. It declares itself monotonic (raft.MonotonicLogStore): Raft
// then never leaves a gap, and after installing a snapshot it deletes every
// entry, after which the next entry may start anywhere; base moves then,
// and is kept in the stable file.
type raftStore struct {
	fs  fsx.FS
	dir string
	log *Log

	mu     sync.Mutex
	stable map[string][]byte
	base   uint64
}

var (
	_ raft.LogStore          = (*raftStore)(nil)
	_ raft.StableStore       = (*raftStore)(nil)
	_ raft.MonotonicLogStore = (*raftStore)(nil)
)

const (
	raftStableFile = "raft.stable"
	raftBaseKey    = "creek.base" // a stable key of creek's own: the log's base index
	// raftStableMagic and version open the stable file, a CRC-32C closes
	// it. Part of the format: never change them.
	raftStableMagic   = 0x63726b73 // "crks"
	raftStableVersion = 1
	maxRaftStableSize = 1 << 20
)

var raftStableFormat = framefile.Format{Name: "raft stable file", Magic: raftStableMagic,
	VersionWidth: framefile.Version8, Oldest: raftStableVersion, Current: raftStableVersion}

// openRaftStore opens (creating) the store in dir.
func openRaftStore(fs fsx.FS, dir string, cfg LogConfig) (*raftStore, error) {
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &raftStore{fs: fs, dir: dir, stable: map[string][]byte{}}
	b, err := framefile.ReadFile(fs, filepath.Join(dir, raftStableFile), maxRaftStableSize)
	switch {
	case err == nil:
		if s.stable, err = decodeRaftStable(b); err != nil {
			return nil, err
		}
	case !errors.Is(err, os.ErrNotExist): // a missing file is a new store
		return nil, err
	}
	if b := s.stable[raftBaseKey]; len(b) == 8 {
		s.base = binary.BigEndian.Uint64(b)
	}
	cfg.Sync = SyncEveryAppend // a Raft entry is acknowledged only once it is durable
	if s.log, err = openLog(fs, filepath.Join(dir, "log"), cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the log.
func (s *raftStore) Close() error { return s.log.Close() }

// IsMonotonic tells Raft that entries never skip an index.
func (s *raftStore) IsMonotonic() bool { return true }

// FirstIndex returns the first index stored, or 0 with none.
func (s *raftStore) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start, end := s.log.StartOffset(), s.log.EndOffset()
	if start == end {
		return 0, nil
	}
	return s.base + uint64(start), nil
}

// LastIndex returns the last index stored, or 0 with none.
func (s *raftStore) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start, end := s.log.StartOffset(), s.log.EndOffset()
	if start == end {
		return 0, nil
	}
	return s.base + uint64(end) - 1, nil
}

// GetLog reads the entry of an index.
func (s *raftStore) GetLog(index uint64, out *raft.Log) error {
	s.mu.Lock()
	base := s.base
	s.mu.Unlock()
	if index < base || index-base >= uint64(s.log.EndOffset()) || int64(index-base) < s.log.StartOffset() {
		return raft.ErrLogNotFound
	}
	offset := int64(index - base)
	records, err := s.log.ReadRecords(offset, 1)
	if err != nil {
		return fmt.Errorf("raft entry %d: %w", index, err)
	}
	if len(records) == 0 || records[0].Offset != offset {
		return raft.ErrLogNotFound
	}
	if err := decodeRaftEntry(records[0].Value, out); err != nil {
		return fmt.Errorf("raft entry %d: %w", index, err)
	}
	out.Index = index
	return nil
}

// StoreLog stores one entry.
func (s *raftStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs appends entries, which must follow the last one stored (or
// start anywhere when the store is empty), and waits for one fsync that
// covers them all.
func (s *raftStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start, end := s.log.StartOffset(), s.log.EndOffset()
	if next := s.base + uint64(end); logs[0].Index != next {
		if start != end || logs[0].Index < uint64(end) {
			return fmt.Errorf("raft entry %d does not follow the last one, %d", logs[0].Index, next-1)
		}
		if err := s.setBaseLocked(logs[0].Index - uint64(end)); err != nil {
			return err
		}
	}
	var last pendingSync
	for i, l := range logs {
		if l.Index != logs[0].Index+uint64(i) {
			return fmt.Errorf("raft entries %d and %d are not consecutive", logs[0].Index, l.Index)
		}
		b, err := encodeRecords([]Record{{Value: encodeRaftEntry(l)}}, time.Now())
		if err != nil {
			return err
		}
		if _, last, err = s.log.write(b); err != nil {
			return err
		}
	}
	return last.wait()
}

// DeleteRange deletes the entries from first to last: a prefix after a
// snapshot, or a suffix that diverged from the leader's.
func (s *raftStore) DeleteRange(first, last uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	start, end := s.log.StartOffset(), s.log.EndOffset()
	if start == end || last < s.base+uint64(start) {
		return nil
	}
	if first <= s.base+uint64(start) { // a prefix
		return s.log.DeleteRecordsBefore(min(int64(last-s.base)+1, end))
	}
	_, err := s.log.Truncate(int64(first - s.base))
	return err
}

func (s *raftStore) setBaseLocked(base uint64) error {
	s.base = base
	return s.setLocked(raftBaseKey, binary.BigEndian.AppendUint64(nil, base))
}

// Set stores a stable value, durably, before it returns.
func (s *raftStore) Set(key, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setLocked(string(key), value)
}

func (s *raftStore) setLocked(key string, value []byte) error {
	s.stable[key] = append([]byte(nil), value...)
	return framefile.WriteAtomic(s.fs, s.dir, raftStableFile, encodeRaftStable(s.stable))
}

// Get returns a stable value, empty when unset.
func (s *raftStore) Get(key []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.stable[string(key)]...), nil
}

// SetUint64 stores a stable number.
func (s *raftStore) SetUint64(key []byte, value uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, value))
}

// GetUint64 returns a stable number, 0 when unset.
func (s *raftStore) GetUint64(key []byte) (uint64, error) {
	b, _ := s.Get(key)
	if len(b) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(b), nil
}

// encodeRaftEntry lays an entry out as: term (8), type (1), appended at
// (8, Unix nanoseconds), data length (4), data, extensions length (4),
// extensions. The index is the record's offset plus the base.
func encodeRaftEntry(l *raft.Log) []byte {
	b := binary.BigEndian.AppendUint64(nil, l.Term)
	b = append(b, byte(l.Type))
	b = binary.BigEndian.AppendUint64(b, uint64(l.AppendedAt.UnixNano()))
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Extensions)))
	return append(b, l.Extensions...)
}

var errBadRaftEntry = fmt.Errorf("%w: raft entry", ErrCorrupt)

func decodeRaftEntry(b []byte, out *raft.Log) error {
	if len(b) < 21 {
		return errBadRaftEntry
	}
	out.Term, out.Type = binary.BigEndian.Uint64(b), raft.LogType(b[8])
	out.AppendedAt = time.Unix(0, int64(binary.BigEndian.Uint64(b[9:])))
	n := binary.BigEndian.Uint32(b[17:])
	b = b[21:]
	if uint64(n)+4 > uint64(len(b)) {
		return errBadRaftEntry
	}
	out.Data, b = append([]byte(nil), b[:n]...), b[n:]
	n = binary.BigEndian.Uint32(b)
	if uint64(n) != uint64(len(b)-4) {
		return errBadRaftEntry
	}
	out.Extensions = nil
	if n > 0 {
		out.Extensions = append([]byte(nil), b[4:]...)
	}
	return nil
}

// encodeRaftStable lays the stable values out as JSON, framed by
// raftStableFormat: magic, version, JSON, CRC-32C.
func encodeRaftStable(values map[string][]byte) []byte {
	body, _ := json.Marshal(values) // a map of byte slices always marshals
	return raftStableFormat.Seal(body)
}

func decodeRaftStable(b []byte) (map[string][]byte, error) {
	_, body, err := raftStableFormat.Open(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	values := map[string][]byte{}
	if err := json.Unmarshal(body, &values); err != nil {
		return nil, fmt.Errorf("%w: raft stable file: %v", ErrCorrupt, err)
	}
	return values, nil
}

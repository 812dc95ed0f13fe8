// CheckLog and RepairLog: a log directory examined and repaired offline.

package creek

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creekmq/creek/internal/fsx"
)

// LogCheck is what CheckLog found in a log's directory.
type LogCheck struct {
	Dir      string
	Segments int
	Batches  int64 // sound batches read
	Bytes    int64 // of those batches
	// Damage is the first damaged batch of each segment that has one;
	// nothing after it in that segment can be read.
	Damage []SegmentDamage
}

// SegmentDamage is damage CheckLog found in one segment.
type SegmentDamage struct {
	*CorruptError
	Base      int64 // the segment's base offset
	LostBytes int64 // from the damage to the segment's end: what a repair cuts
}

// CheckLog reads every batch of the log in dir and changes nothing: each
// batch's framing and CRC, and that its offsets follow the batch before
// and lie below the next segment. Run it while no node has the log open.
// A torn tail of the newest segment, which the next open would cut, is
// reported as damage too.
func CheckLog(dir string) (LogCheck, error) { return checkLog(fsx.OS(), dir) }

// RepairLog cuts each damaged segment of the log in dir at its first
// damaged batch, and removes that segment's indexes and the partition's
// producer and transaction snapshots, which the next open rebuilds; what followed the damage in the segment is lost (LostBytes),
// the segments after it are kept, and consumers skip the offsets cut as
// they skip those compaction removes. It returns what it found. Run it
// while no node has the log open; a replica in a cluster does better to
// copy its leader again (delete the partition's directory).
func RepairLog(dir string) (LogCheck, error) {
	fs := fsx.OS()
	check, err := checkLog(fs, dir)
	if err != nil {
		return check, err
	}
	for _, d := range check.Damage {
		if err := cutSegment(fs, dir, d); err != nil {
			return check, err
		}
	}
	return check, nil
}

func checkLog(fs fsx.FS, dir string) (LogCheck, error) {
	check := LogCheck{Dir: dir}
	names, err := fs.ReadDir(dir)
	if err != nil {
		return check, err
	}
	var bases []int64
	for _, name := range names {
		if base, ok := parseSegmentName(name, logSuffix); ok {
			bases = append(bases, base)
		}
	}
	check.Segments = len(bases)
	for i, base := range bases {
		next := int64(-1) // the newest segment has no bound above
		if i+1 < len(bases) {
			next = bases[i+1]
		}
		damage, err := checkSegment(fs, dir, base, next, &check)
		if err != nil {
			return check, err
		}
		if damage != nil {
			check.Damage = append(check.Damage, *damage)
		}
	}
	return check, nil
}

// checkSegment scans one segment, counting its sound batches into check,
// and returns its first damage, if any.
func checkSegment(fs fsx.FS, dir string, base, next int64, check *LogCheck) (*SegmentDamage, error) {
	f, err := fs.OpenFile(segmentPath(dir, base, logSuffix), os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	sc := newScanner(f, 0, size, recoveryChunk)
	after := int64(-1)
	for sc.next(true) {
		if err := offsetsFit(sc.header, after, base, next); err != nil {
			sc.err = sc.corrupt(err)
			break
		}
		after = sc.header.LastOffset()
		check.Batches++
		check.Bytes += sc.size
	}
	var corrupt *CorruptError
	switch {
	case sc.err == nil:
		return nil, nil
	case errors.As(sc.err, &corrupt):
	case errors.Is(sc.err, errShortBatch):
		corrupt = sc.corrupt(sc.err).(*CorruptError)
	default:
		return nil, sc.err // a read error: nothing is known of the bytes
	}
	return &SegmentDamage{CorruptError: corrupt, Base: base, LostBytes: size - corrupt.Position}, nil
}

// cutSegment truncates a damaged segment at its damage and removes its
// indexes and the partition's snapshots, which the next open rebuilds
// from the log.
func cutSegment(fs fsx.FS, dir string, d SegmentDamage) error {
	f, err := fs.OpenFile(segmentPath(dir, d.Base, logSuffix), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(d.Position)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("cut %s at %d: %w", d.Path, d.Position, err)
	}
	for _, suffix := range indexSuffixes {
		if err := fs.Remove(segmentPath(dir, d.Base, suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	// The partition's snapshots say the log up to their ends needs no
	// replay; the cut may have taken batches below that, an abort marker
	// among them, whose index entry went with the segment's index.
	if err := removeProducerSnapshots(fs, dir); err != nil {
		return err
	}
	return fs.SyncDir(filepath.Clean(dir))
}

package txnlog

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// EntrySize is the size of an entry of Kafka's .txnindex: version (2,
// always 0) | producer ID (8) | first offset (8) | last offset (8) | last
// stable offset (8), big-endian.
const EntrySize = 2 + 8 + 8 + 8 + 8

// AppendEntry appends a's index entry to dst.
func AppendEntry(dst []byte, a Aborted) []byte {
	dst = binary.BigEndian.AppendUint16(dst, 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.ProducerID))
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.FirstOffset))
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.LastOffset))
	return binary.BigEndian.AppendUint64(dst, uint64(a.LastStable))
}

// ParseIndex decodes the entries of an index file. A file whose size is
// not a whole number of entries (a torn write), an unknown version, or
// entries out of order or inconsistent give an error: the caller rebuilds
// the index from the log.
func ParseIndex(b []byte) ([]Aborted, error) {
	if len(b)%EntrySize != 0 {
		return nil, fmt.Errorf("txnlog: index of %d bytes is not whole entries of %d", len(b), EntrySize)
	}
	out := make([]Aborted, 0, len(b)/EntrySize)
	for pos := 0; pos < len(b); pos += EntrySize {
		e := b[pos : pos+EntrySize]
		if v := binary.BigEndian.Uint16(e); v != 0 {
			return nil, fmt.Errorf("txnlog: index entry at %d has version %d", pos, v)
		}
		a := Aborted{
			ProducerID:  int64(binary.BigEndian.Uint64(e[2:])),
			FirstOffset: int64(binary.BigEndian.Uint64(e[10:])),
			LastOffset:  int64(binary.BigEndian.Uint64(e[18:])),
			LastStable:  int64(binary.BigEndian.Uint64(e[26:])),
		}
		if a.ProducerID < 0 || a.FirstOffset < 0 || a.LastOffset < a.FirstOffset || a.LastStable < 0 ||
			len(out) > 0 && a.LastOffset <= out[len(out)-1].LastOffset {
			return nil, fmt.Errorf("txnlog: index entry at %d is inconsistent: %+v", pos, a)
		}
		out = append(out, a)
	}
	return out, nil
}

// Collect appends to dst the entries of one index, in the order of their
// markers, that a read of [from, upTo) meets: the aborted transactions
// with data before upTo whose markers are at or after from. It reports
// done once an entry's last stable offset reached upTo: every transaction
// aborted after that one began at or after it, so neither this index nor
// a later segment's holds one more for the read (Kafka's lookup stops
// there too).
func Collect(dst, entries []Aborted, from, upTo int64) (_ []Aborted, done bool) {
	for _, a := range entries[EndingFrom(entries, from):] {
		if a.FirstOffset < upTo {
			dst = append(dst, a)
		}
		if a.LastStable >= upTo {
			return dst, true
		}
	}
	return dst, false
}

// EndingFrom returns the index of the first of entries, in marker order,
// whose marker is at or after offset.
func EndingFrom(entries []Aborted, offset int64) int {
	return sort.Search(len(entries), func(i int) bool { return entries[i].LastOffset >= offset })
}

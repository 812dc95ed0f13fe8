package epochs

import (
	"fmt"
	"strconv"
	"strings"
)

// The checkpoint is text, as Kafka's is, and not framed: a version line, a
// count line, then one "epoch start" line per epoch, each line ending in
// "\n". Part of the format: never change these constants.
const (
	checkpointVersion = 0
	// maxEntries bounds a checkpoint: a count beyond it is damage.
	maxEntries = 1 << 16
)

// MarshalCheckpoint returns the list as its checkpoint file holds it.
func (l *List) MarshalCheckpoint() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n%d\n", checkpointVersion, len(l.entries))
	for _, e := range l.entries {
		fmt.Fprintf(&b, "%d %d\n", e.Epoch, e.StartOffset)
	}
	return []byte(b.String())
}

// UnmarshalCheckpoint reads a list from a checkpoint file's bytes. It
// refuses an unknown version, a count that does not match the entries or
// exceeds 65536, a malformed or negative entry, and entries out of order
// (an epoch not above the one before it, or a start before its start).
// It does not retain b.
func UnmarshalCheckpoint(b []byte) (List, error) {
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 2 || lines[0] != strconv.Itoa(checkpointVersion) {
		return List{}, fmt.Errorf("leader epoch checkpoint: unknown version or too short")
	}
	count, err := strconv.Atoi(lines[1])
	if err != nil || count < 0 || count > maxEntries || count != len(lines)-2 {
		return List{}, fmt.Errorf("leader epoch checkpoint: count %q for %d entries", lines[1], len(lines)-2)
	}
	entries := make([]Entry, 0, count)
	for _, line := range lines[2:] {
		epochText, startText, ok := strings.Cut(line, " ")
		epoch, err1 := strconv.ParseInt(epochText, 10, 32)
		start, err2 := strconv.ParseInt(startText, 10, 64)
		if !ok || err1 != nil || err2 != nil || epoch < 0 || start < 0 {
			return List{}, fmt.Errorf("leader epoch checkpoint: bad entry %q", line)
		}
		if n := len(entries); n > 0 && (int32(epoch) <= entries[n-1].Epoch || start < entries[n-1].StartOffset) {
			return List{}, fmt.Errorf("leader epoch checkpoint: entry %q out of order", line)
		}
		entries = append(entries, Entry{Epoch: int32(epoch), StartOffset: start})
	}
	return List{entries: entries}, nil
}

package creek

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRoleChangesAreLoggedOnce: a reconcile that gives many partitions
// new roles logs one line for those led and one per leader followed,
// naming at most maxLoggedPartitions each, not a line per partition.
func TestRoleChangesAreLoggedOnce(t *testing.T) {
	var out bytes.Buffer
	l := slog.New(slog.NewTextHandler(&out, nil))
	var c roleChanges
	for i := range 30 {
		c.add(&partition{topic: "__consumer_offsets", index: int32(i)}, roleFollowed, 2, 7)
	}
	c.add(&partition{topic: "t", index: 0}, roleLed, 1, 3)
	c.add(&partition{topic: "t", index: 1}, roleFollowed, 3, 4)
	c.add(&partition{topic: "t", index: 2}, roleKept, 1, 3)
	c.log(l, 1)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Len(t, lines, 3)
	assert.Contains(t, lines[0], `msg="leading partitions" node=1 count=1 partitions=t-0@3`)
	assert.Contains(t, lines[1], `leader=2 count=30`)
	assert.Contains(t, lines[1], "__consumer_offsets-19@7 and 10 more")
	assert.Contains(t, lines[2], `leader=3 count=1 partitions=t-1@4`)

	out.Reset()
	(&roleChanges{}).log(l, 1)
	assert.Empty(t, out.String(), "nothing changed, nothing logged")
}

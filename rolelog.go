// The log of the roles a metadata change gives this node's partitions:
// one line for the partitions it now leads and one per leader it now
// follows, not a line per partition, so that a change that moves many
// partitions at once (a node's restart, with __consumer_offsets' fifty)
// reads as one event.

package creek

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// roleChange is what apply did to a partition's role.
type roleChange int8

const (
	roleKept     roleChange = iota // the role it had, or a new ISR
	roleLed                        // this node leads it now
	roleFollowed                   // this node follows a new leader or epoch
)

// roleChanges gathers what one reconcile did, to log it once.
type roleChanges struct {
	led      []string           // "topic-partition@epoch"
	followed map[int32][]string // by leader
}

// add notes a partition's change, at epoch.
func (c *roleChanges) add(p *partition, change roleChange, leader, epoch int32) {
	name := fmt.Sprintf("%s-%d@%d", p.topic, p.index, epoch)
	switch change {
	case roleLed:
		c.led = append(c.led, name)
	case roleFollowed:
		if c.followed == nil {
			c.followed = map[int32][]string{}
		}
		c.followed[leader] = append(c.followed[leader], name)
	}
}

// maxLoggedPartitions bounds the partitions one line names.
const maxLoggedPartitions = 20

// log writes the changes gathered by node self, one line for those led
// and one per leader followed.
func (c *roleChanges) log(l *slog.Logger, self int32) {
	if len(c.led) > 0 {
		l.Info("leading partitions", "node", self, "count", len(c.led), "partitions", partitionList(c.led))
	}
	leaders := make([]int32, 0, len(c.followed))
	for leader := range c.followed {
		leaders = append(leaders, leader)
	}
	slices.Sort(leaders)
	for _, leader := range leaders {
		names := c.followed[leader]
		l.Info("following partitions' leader", "node", self, "leader", leader, "count", len(names),
			"partitions", partitionList(names))
	}
}

// partitionList names partitions, at most maxLoggedPartitions of them.
func partitionList(names []string) string {
	if len(names) <= maxLoggedPartitions {
		return strings.Join(names, " ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxLoggedPartitions], " "), len(names)-maxLoggedPartitions)
}

// The default partition budget, from the process's file limit (unix).

//go:build unix

package creek

import "syscall"

// Partitions' share of the process's file limit: each keeps four files
// open (its active segment's log and three indexes), and fileReserve are
// left for connections, Raft and the rest.
const (
	filesPerPartition = 4
	fileReserve       = 256
	minPartitions     = 100 // whatever the limit: __consumer_offsets alone has 50
)

// partitionsForFileLimit returns how many partitions the process's file
// limit holds. Go raises the soft limit to the hard one at start, so that
// is the limit read. Before, a node auto-creating topics ran out of
// descriptors, and then could not start again.
func partitionsForFileLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return DefaultMaxPartitions
	}
	return max((int(lim.Cur)-fileReserve)/filesPerPartition, minPartitions)
}

// The default partition budget where there is no RLIMIT_NOFILE.

//go:build !unix

package creek

// partitionsForFileLimit returns DefaultMaxPartitions: the process's file
// limit is not read here.
func partitionsForFileLimit() int { return DefaultMaxPartitions }

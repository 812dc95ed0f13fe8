//go:build unix

package creek

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMaxPartitionsFollowsTheFileLimit: on disk, the default holds the
// partitions to what the file limit allows, four files each and 256
// spare, and never below 100; in memory, which opens no files, and when
// set, it is what it is.
func TestMaxPartitionsFollowsTheFileLimit(t *testing.T) {
	var was syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &was))
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &was)
	for limit, want := range map[int]int{1056: 200, 656: 100, 300: 100} {
		lowered := was
		setLimit(&lowered.Cur, limit)
		lowered.Cur = min(lowered.Cur, was.Max)
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered))
		if int(lowered.Cur) == limit {
			assert.Equal(t, want, Config{Dir: t.TempDir()}.withDefaults().MaxPartitions, "a file limit of %d", limit)
		}
		assert.Equal(t, DefaultMaxPartitions, Config{}.withDefaults().MaxPartitions, "in memory")
		assert.Equal(t, 7, Config{Dir: t.TempDir(), MaxPartitions: 7}.withDefaults().MaxPartitions)
	}
}

// setLimit sets an rlimit field, which is a uint64 on some systems and an
// int64 on others (FreeBSD, DragonFly).
func setLimit[T ~int64 | ~uint64](field *T, n int) { *field = T(n) }

//go:build unix

package creek

import "syscall"

// writeBack writes every dirty page of the machine's filesystems to disk
// (sync(2)), so that a timed run that follows pays for no writeback of
// the runs before it.
func writeBack() { syscall.Sync() }

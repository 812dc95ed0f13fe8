//go:build unix

package creek

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the process has used so far.
func processCPU() cpuTime {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return cpuTime{}
	}
	return cpuTime{user: time.Duration(u.Utime.Nano()), system: time.Duration(u.Stime.Nano())}
}

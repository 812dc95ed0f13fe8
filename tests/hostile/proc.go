package hostile

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MiB is a mebibyte, for bounds and figures.
const MiB = 1 << 20

// statusKiB reads a "Name:   N kB" line of /proc/<pid>/status, in bytes.
func statusKiB(pid int, name string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		rest, ok := strings.CutPrefix(lines.Text(), name+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status %s: %v", pid, name, err)
		}
		return kb << 10, nil
	}
	if err := lines.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, name)
}

// PeakRSS is the process's peak resident set size (VmHWM), in bytes.
func PeakRSS(pid int) (int64, error) { return statusKiB(pid, "VmHWM") }

// RSS is the process's resident set size now (VmRSS), in bytes.
func RSS(pid int) (int64, error) { return statusKiB(pid, "VmRSS") }

// OpenFDs counts the process's open file descriptors.
func OpenFDs(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	return len(entries), nil
}

// FDSampler counts a process's open file descriptors every interval, in
// the background, and keeps the most it saw.
type FDSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	peak int
}

// SampleFDs starts sampling pid's descriptors every interval.
func SampleFDs(pid int, interval time.Duration) *FDSampler {
	s := &FDSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *FDSampler) sample() {
	if n, err := OpenFDs(s.pid); err == nil {
		s.mu.Lock()
		s.peak = max(s.peak, n)
		s.mu.Unlock()
	}
}

// Peak is the most descriptors seen so far.
func (s *FDSampler) Peak() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// Stop ends the sampling, takes one last sample and returns the peak.
func (s *FDSampler) Stop() int {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.sample()
	return s.Peak()
}

// FDLimit is the process's soft RLIMIT_NOFILE, from /proc/<pid>/limits.
func FDLimit(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				break
			}
			return strconv.Atoi(fields[0])
		}
	}
	return 0, fmt.Errorf("/proc/%d/limits has no Max open files", pid)
}

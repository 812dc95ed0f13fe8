package creek

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

var faultConfig = LogConfig{SegmentBytes: 1024, IndexIntervalBytes: 200}

// faultWorkload opens a log on fs, appends batches across several rolls,
// truncates, deletes old records and closes it. It returns the batches
// acknowledged (by base offset, as stored) and the first error.
func faultWorkload(t *testing.T, fs fsx.FS) (map[int64][]byte, error) {
	acked := map[int64][]byte{}
	cfg := faultConfig
	cfg.Logger = discardLogger()
	l, err := openLog(fs, "/log", cfg)
	if err != nil {
		return acked, err
	}
	defer l.Close()
	for i := range 24 {
		b := testBatch(t, i, 1+i%3, 60, int64(i))
		base, err := l.Append(b)
		if err != nil {
			_, again := l.Append(testBatch(t, 0, 1, 1, 0))
			if errors.Is(err, ErrLogFailed) {
				assert.ErrorIs(t, again, ErrLogFailed, "a failed log refuses appends")
			}
			return acked, err
		}
		acked[base] = b
		if i == 16 {
			delete(acked, base) // whether a failed truncation removed it is unknown
			if _, err := l.Truncate(base); err != nil {
				return acked, err
			}
		}
	}
	if err := l.DeleteRecordsBefore(3); err != nil {
		return acked, err
	}
	for base := range acked {
		if base < 3 {
			delete(acked, base) // may go; what is kept is still checked
		}
	}
	return acked, l.Close()
}

// checkAcked reopens the log on the crash survivor of mem and checks that
// every acknowledged batch is there unchanged.
func checkAcked(t *testing.T, mem *fsx.Mem, acked map[int64][]byte) {
	t.Helper()
	cfg := faultConfig
	cfg.Logger = discardLogger()
	l, err := openLog(mem.CrashClone(), "/log", cfg)
	require.NoError(t, err)
	defer l.Close()
	stored := map[int64][]byte{}
	for _, b := range readAll(t, l) {
		stored[int64FromBatch(b)] = b
	}
	for base, want := range acked {
		if base >= l.StartOffset() {
			assert.Equal(t, want, stored[base], "acknowledged batch %d", base)
		}
	}
}

// TestFaultEachOperation fails each file operation of the workload in turn,
// once (FailAt) and from there on, as a disk that died (FailAfter), until
// the workload runs clean. Every run fails with the injected error or keeps
// all it acknowledged, which a crash clone of the memory file system then
// proves.
func TestFaultEachOperation(t *testing.T) {
	for _, injector := range []struct {
		name string
		at   func(int64) fsx.Injector
	}{{"FailAt", fsx.FailAt}, {"FailAfter", fsx.FailAfter}} {
		t.Run(injector.name, func(t *testing.T) {
			for i := int64(0); ; i++ {
				mem := fsx.NewMem()
				inj := fsx.Inject(mem, injector.at(i))
				acked, err := faultWorkload(t, inj)
				if err != nil {
					require.ErrorIs(t, err, fsx.ErrInjected, "fault at op %d", i)
				}
				checkAcked(t, mem, acked)
				if err == nil && inj.Ops() <= i {
					t.Logf("the workload ran clean after failing each of its %d operations in turn", i)
					return
				}
			}
		})
	}
}

func TestFaultDiskFull(t *testing.T) {
	for limit := int64(0); limit < 6000; limit += 250 {
		mem := fsx.NewMem()
		acked, err := faultWorkload(t, fsx.Inject(mem, fsx.DiskFull(limit)))
		if err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC, "limit %d", limit)
		}
		checkAcked(t, mem, acked)
	}
}

func TestFaultShortWrite(t *testing.T) {
	for i := int64(0); i < 60; i++ {
		mem := fsx.NewMem()
		acked, err := faultWorkload(t, fsx.Inject(mem, fsx.ShortWriteAt(i, 7)))
		if err != nil {
			require.ErrorIs(t, err, fsx.ErrInjected, "short write %d", i)
		}
		checkAcked(t, mem, acked)
	}
}

func int64FromBatch(b []byte) int64 {
	var v int64
	for _, c := range b[:8] {
		v = v<<8 | int64(c)
	}
	return v
}

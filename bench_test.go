package creek

import (
	"flag"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creekmq/creek/internal/fsx"
)

// Every benchmark here measures a reference in the same run, interleaved with
// the work it is compared to, so that both see the same machine: a plain
// file written or read with the same bytes. Read the ratio metrics (x-file);
// absolute figures on a shared machine mean little.

var recoverySegmentMiB = flag.Int("bench.recovery-mib", 1024, "BenchmarkRecovery: segment size in MiB")

// benchBatch returns an uncompressed batch of records of recordSize bytes,
// batchSize bytes in all (roughly).
func benchBatch(b *testing.B, batchSize, recordSize int) []byte {
	n := max(batchSize/(recordSize+20), 1)
	return testBatch(b, 0, n, recordSize, time.Now().UnixMilli())
}

func benchLog(b *testing.B, cfg LogConfig) *Log {
	cfg.Logger = discardLogger()
	if cfg.SegmentBytes == 0 {
		cfg.SegmentBytes = 1 << 30
	}
	l, err := openLog(fsx.OS(), filepath.Join(b.TempDir(), "log"), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := l.Close(); err != nil {
			b.Error(err)
		}
	})
	return l
}

func benchFile(b *testing.B) *os.File {
	f, err := os.Create(filepath.Join(b.TempDir(), "reference"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// BenchmarkAppend appends 64 KiB batches of 1 KiB records without syncing,
// beside a plain sequential write of the same bytes.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []struct {
		name          string
		batch, record int
	}{{"batch=64KiB/record=1KiB", 64 << 10, 1 << 10}, {"batch=4KiB/record=100B", 4 << 10, 100}} {
		b.Run(size.name, func(b *testing.B) {
			l := benchLog(b, LogConfig{Sync: SyncNever})
			ref := benchFile(b)
			data := benchBatch(b, size.batch, size.record)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var logTime, fileTime time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := l.Append(data); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if _, err := ref.Write(data); err != nil {
					b.Fatal(err)
				}
				logTime += mid.Sub(start)
				fileTime += time.Since(mid)
			}
			reportRatio(b, len(data), logTime, fileTime)
		})
	}
}

// reportRatio reports MB/s of the log and of the reference file and the
// ratio between them.
func reportRatio(b *testing.B, size int, logTime, fileTime time.Duration) {
	total := float64(size) * float64(b.N) / 1e6
	b.ReportMetric(total/logTime.Seconds(), "log-MB/s")
	b.ReportMetric(total/fileTime.Seconds(), "file-MB/s")
	b.ReportMetric(fileTime.Seconds()/logTime.Seconds(), "x-file")
}

// BenchmarkGroupCommit has 8 goroutines append 100-byte records, each
// waiting for its fsync. Reference: one writer that writes and fsyncs each
// record alone, the rate a log without group commit would reach.
func BenchmarkGroupCommit(b *testing.B) {
	const appenders = 8
	l := benchLog(b, LogConfig{Sync: SyncEveryAppend})
	data := testBatch(b, 0, 1, 100, time.Now().UnixMilli())
	ref := benchFile(b)
	b.ReportAllocs()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range appenders {
		wg.Go(func() {
			buf := append([]byte(nil), data...)
			for next.Add(1) <= int64(b.N) {
				if _, err := l.Append(buf); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	logTime := time.Since(start)
	b.StopTimer()
	// The reference writes a tenth as many records: each costs a whole fsync.
	refN := max(b.N/10, 1)
	start = time.Now()
	for range refN {
		if _, err := ref.Write(data); err != nil {
			b.Fatal(err)
		}
		if err := ref.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	fileTime := time.Since(start)
	st := l.Stats()
	logRate := float64(b.N) / logTime.Seconds()
	fileRate := float64(refN) / fileTime.Seconds()
	b.ReportMetric(logRate, "records/s")
	b.ReportMetric(fileRate, "fsync-each-records/s")
	b.ReportMetric(logRate/fileRate, "x-fsync-each")
	b.ReportMetric(float64(st.Appends)/float64(max(st.Syncs, 1)), "records/fsync")
}

// BenchmarkRead reads a 64 MiB log from offset 0 in 1 MiB reads, beside a
// plain read of its segment file in the same chunks.
func BenchmarkRead(b *testing.B) {
	l := benchLog(b, LogConfig{Sync: SyncNever})
	data := benchBatch(b, 64<<10, 1<<10)
	const logBytes = 64 << 20
	for range logBytes / len(data) {
		if _, err := l.Append(data); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Sync(); err != nil {
		b.Fatal(err)
	}
	segment, err := os.Open(segmentPath(l.Dir(), 0, logSuffix))
	if err != nil {
		b.Fatal(err)
	}
	defer segment.Close()
	size, _ := segment.Seek(0, 2)
	b.SetBytes(size)
	b.ReportAllocs()
	buf := make([]byte, 0, 2<<20)
	var logTime, fileTime time.Duration
	for b.Loop() {
		start := time.Now()
		for offset := int64(0); offset < l.EndOffset(); {
			got, err := l.Read(buf[:0], offset, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			offset = lastOffsetIn(got) + 1
		}
		mid := time.Now()
		for pos := int64(0); pos < size; pos += 1 << 20 {
			if _, err := segment.ReadAt(buf[:1<<20], pos); err != nil && pos+1<<20 <= size {
				b.Fatal(err)
			}
		}
		logTime += mid.Sub(start)
		fileTime += time.Since(mid)
	}
	reportRatio(b, int(size), logTime, fileTime)
}

// BenchmarkRecovery opens a log whose one segment (1 GiB by default,
// -bench.recovery-mib) has no checkpoint, so every batch is validated,
// beside a plain sequential read of the same file.
func BenchmarkRecovery(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "log")
	l, err := openLog(fsx.OS(), dir, LogConfig{Sync: SyncNever, SegmentBytes: 1<<31 - 1, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	data := benchBatch(b, 64<<10, 1<<10)
	for range (*recoverySegmentMiB << 20) / len(data) {
		if _, err := l.Append(data); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	path := segmentPath(dir, 0, logSuffix)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	buf := make([]byte, 1<<20)
	var logTime, fileTime time.Duration
	for b.Loop() {
		os.Remove(filepath.Join(dir, checkpointName))
		start := time.Now()
		l, err := openLog(fsx.OS(), dir, LogConfig{Sync: SyncNever, SegmentBytes: 1<<31 - 1, Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		f, _ := os.Open(path)
		for pos := int64(0); pos < fi.Size(); pos += int64(len(buf)) {
			f.ReadAt(buf, pos)
		}
		f.Close()
		logTime += mid.Sub(start)
		fileTime += time.Since(mid)
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reportRatio(b, int(fi.Size()), logTime, fileTime)
}

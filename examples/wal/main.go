// Command wal is creek's commit log used as a write-ahead log: it appends
// records to a log on disk with an fsync before each append returns, reopens
// the log as a crashed process would, and reads every record back.
//
//	go run ./examples/wal -data ./creek-data -records 10000
//
// Run it twice: the second run finds the first run's records and appends
// after them.
package main

import (
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/creekmq/creek"
)

func main() {
	dir := flag.String("data", "./creek-data", "directory of the log")
	count := flag.Int("records", 10000, "records to append")
	perBatch := flag.Int("batch", 100, "records per append")
	flag.Parse()

	l, err := creek.OpenLog(*dir, creek.LogConfig{SegmentBytes: 8 << 20})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("opened %s: offsets [%d, %d)\n", *dir, l.StartOffset(), l.EndOffset())

	start := time.Now()
	first := l.EndOffset()
	for appended := 0; appended < *count; appended += *perBatch {
		records := make([]creek.Record, min(*perBatch, *count-appended))
		for i := range records {
			n := first + int64(appended+i)
			records[i] = creek.Record{Key: fmt.Appendf(nil, "user-%d", n%100), Value: fmt.Appendf(nil, "event %d", n)}
		}
		if _, err := l.AppendRecords(records...); err != nil {
			log.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	st := l.Stats()
	fmt.Printf("appended %d records in %v (%.0f records/s, %d fsyncs)\n",
		*count, elapsed.Round(time.Millisecond), float64(*count)/elapsed.Seconds(), st.Syncs)
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}

	l, err = creek.OpenLog(*dir, creek.LogConfig{SegmentBytes: 8 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	var read int
	var last creek.Record
	for offset := l.StartOffset(); offset < l.EndOffset(); {
		records, err := l.ReadRecords(offset, 1<<20)
		if err != nil {
			log.Fatal(err)
		}
		read += len(records)
		last = records[len(records)-1]
		offset = last.Offset + 1
	}
	fmt.Printf("reopened and read %d records; the last is offset %d: %s = %q\n", read, last.Offset, last.Key, last.Value)
}

// Package creek is Apache Kafka's model — topics, partitions, a segmented
// commit log, producers, consumers, consumer groups, replication — as a Go
// library that runs inside your process.
//
// # The commit log
//
// The bottom layer is the Log: an ordered, segmented file of Kafka record
// batches, usable on its own as a write-ahead log.
//
//	l, err := creek.OpenLog("/var/lib/app/wal", creek.LogConfig{})
//	base, err := l.Append(batchBytes) // assigns offsets, syncs, returns the first
//	batches, err := l.Read(nil, base, 1<<20)
//
// A log directory holds one file set per segment, named by the segment's base
// offset, and a checkpoint:
//
//	00000000000000000000.log        record batches, exactly as produced (base offset patched)
//	00000000000000000000.index      sparse: relative offset (4) → file position (4)
//	00000000000000000000.timeindex  sparse: max timestamp (8) → relative offset (4)
//	00000000000000052017.log        the next segment starts at offset 52017
//	...
//	creek.checkpoint                recovery point and log start offset, with a CRC
//
// Batches are Kafka's RecordBatch v2 (see internal/batch). The broker checks
// a batch's length, magic and CRC-32C and sets its base offset, which the CRC
// does not cover; it never re-encodes records.
//
// # Durability
//
// LogConfig.Sync chooses when appends reach stable storage: before Append
// returns (the default; concurrent appenders share one fsync), periodically,
// or never (the operating system decides, as Kafka does by default). Whatever
// the policy, a rolled segment is synced (in the background unless every
// append syncs) and the checkpoint's recovery point then moves past it.
// Opening the log validates every batch from the recovery point on and cuts
// a torn tail at the first batch that is short or fails its CRC; a bad batch
// below the recovery point is reported as a *CorruptError, never skipped.
//
// # Concurrency
//
// A Log is safe for concurrent use. Appends are serialised; reads run beside
// them and never wait for the appender.
package creek

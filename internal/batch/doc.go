// Package batch reads, checks, patches and builds Kafka RecordBatch v2
// (magic 2) bytes: the unit a producer sends, a segment stores and a fetch
// returns, unchanged.
//
// A batch is a 61-byte header followed by its records, compressed as a whole
// when the attributes name a codec. All integers are big-endian.
//
//	 offset  size  field
//	 ------  ----  -----------------------------------------------------------
//	      0     8  baseOffset            set by the leader       ─┐ outside
//	      8     4  batchLength           bytes after this field   │ the CRC
//	     12     4  partitionLeaderEpoch  set by the leader       ─┘
//	     16     1  magic                 always 2
//	     17     4  crc                   CRC-32C (Castagnoli) of bytes [21, end)
//	     21     2  attributes            ─┐
//	     23     4  lastOffsetDelta        │
//	     27     8  baseTimestamp          │
//	     35     8  maxTimestamp           │ covered
//	     43     8  producerId             │ by the
//	     51     2  producerEpoch          │ CRC
//	     53     4  baseSequence           │
//	     57     4  recordCount            │
//	     61     …  records               ─┘ (compressed as one block if bits 0-2 ≠ 0)
//
//	attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)
//	            bit  3   timestamp type (0 CreateTime, 1 LogAppendTime)
//	            bit  4   transactional
//	            bit  5   control batch (transaction markers)
//	            bit  6   baseTimestamp is the delete horizon (KIP-534)
//
// Each record is a run of zig-zag varints (as encoding/binary.PutVarint):
//
//	length         varint   bytes after this field
//	attributes     int8     unused, kept as sent
//	timestampDelta varlong  from baseTimestamp
//	offsetDelta    varint   from baseOffset
//	keyLength      varint   -1 for a null key
//	key            bytes
//	valueLength    varint   -1 for a null value
//	value          bytes
//	headerCount    varint
//	  headerKeyLength    varint  never negative
//	  headerKey          bytes   UTF-8
//	  headerValueLength  varint  -1 for a null value
//	  headerValue        bytes
//
// The broker's hot path is [Validate] then [SetBaseOffset] and
// [SetPartitionLeaderEpoch]: the CRC does not cover those fields, so
// assigning offsets never touches the records and never allocates. [Next]
// splits a buffer read from a segment into batches. Producers use a
// [Builder]; consumers, compaction and the idempotence rebuild use a
// [Reader] or [Records].
//
// Every decoder here treats its input as hostile: a malformed batch gives a
// [*CorruptError] matching [ErrCorrupt], never a panic, and decompressed
// records are bounded (64 MiB by default) so that a small batch cannot
// exhaust memory.
//
// Functions are safe for concurrent use; a Builder or a Reader is not, but
// each is cheap and reusable.
package batch

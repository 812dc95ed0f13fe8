// Package creek is Apache Kafka's model — topics, partitions, a segmented
// commit log, producers, consumers, consumer groups, leader → follower
// replication — as a Go library that runs inside your process: in memory
// for unit tests, on disk inside a service, or as a cluster of services.
// Every node can also speak the Kafka wire protocol on one port, so stock
// Kafka clients work against it unchanged.
//
// # A node
//
// Open starts a Node from a Config: in memory when Config.Dir is empty, on
// disk otherwise; with Config.Listen (or Config.Listeners, each with its
// security protocol) it serves Kafka clients; with
// Config.Cluster it joins a cluster. A node holds topics (CreateTopic,
// TopicSpec, the Config* names of Kafka's topic configs), each a set of
// partitions, each partition a Log.
//
//	node, err := creek.Open(creek.Config{Dir: "/var/lib/app/creek"})
//	err = node.CreateTopic(ctx, "logins", creek.TopicSpec{Partitions: 3})
//
// # Producing and consuming
//
// A Producer (Node.NewProducer) batches records per partition and appends
// them without framing, the network or a copy through kmsg; it is
// idempotent by default, so a resent batch is stored once. Acks says when
// a record counts as sent. A Consumer (Node.NewConsumer) reads the
// partitions it is assigned, or, with a Group, the share of its
// subscribed topics the group gives it, and commits its positions there;
// Kafka's at-most-once, at-least-once and idempotent producing are in the
// examples. Calls that may wait on another node take a context first;
// Close is bounded by the configs' CloseTimeout.
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
//	00000000000000000000.txnindex   the aborted transactions whose markers the segment holds
//	00000000000000052017.log        the next segment starts at offset 52017
//	...
//	creek.checkpoint                recovery point, log start and cleaned offsets, with a CRC
//
// Batches are Kafka's RecordBatch v2 (see internal/batch). The broker checks
// a batch's length, magic and CRC-32C and sets its base offset, which the CRC
// does not cover; it never re-encodes records.
//
// # Durability
//
// LogConfig.Sync, or a topic's creek.sync config, chooses when appends
// reach stable storage: before the append is acknowledged (the default;
// concurrent appenders share one fsync), periodically, or never (the
// operating system decides, as Kafka does by default). Whatever the
// policy, a rolled segment is synced (in the background unless every
// append syncs) and the checkpoint's recovery point then moves past it.
// Opening the log validates every batch from the recovery point on and cuts
// a torn tail at the first batch that is short or fails its CRC; a bad batch
// below the recovery point is reported as a *CorruptError, never skipped.
// CheckLog and RepairLog examine and repair a log directory offline.
//
// # A cluster
//
// With Config.Cluster, nodes find each other by gossip
// (hashicorp/memberlist), a Raft controller (hashicorp/raft) decides
// topics, partition leaders and in-sync replicas, and followers copy their
// leaders' logs over the Kafka protocol. An acks=all write is acknowledged
// once every in-sync replica has it; when a leader fails, the controller
// elects one of them. Producers and consumers on any node reach the
// partitions wherever they lead.
//
// # Errors
//
// Errors wrap the Err* values (errors.Is) and *CorruptError (errors.As);
// KafkaCode gives the Kafka error code a client would see for one.
//
// # Tests
//
// Package creektest opens a node in memory, or a cluster of nodes in one
// process, for a test, and closes them when it ends.
//
// # Concurrency
//
// Node, Log, Producer and Consumer are safe for concurrent use; Poll is
// meant for one goroutine. A Log's appends are serialised; reads run
// beside them and never wait for the appender.
package creek

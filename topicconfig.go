// Topic configs: Kafka's names and defaults, parsed into a partition's
// settings.

package creek

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creekmq/creek/internal/batch"
)

// Topic config names, as Kafka spells them, and creek's own.
const (
	ConfigCleanupPolicy          = "cleanup.policy"                 // delete, compact, or compact,delete
	ConfigRetentionMs            = "retention.ms"                   // -1: keep forever
	ConfigRetentionBytes         = "retention.bytes"                // -1: no limit
	ConfigSegmentBytes           = "segment.bytes"                  // size at which a segment rolls
	ConfigSegmentMs              = "segment.ms"                     // age at which a segment rolls
	ConfigIndexIntervalBytes     = "index.interval.bytes"           // log bytes between index entries
	ConfigDeleteRetentionMs      = "delete.retention.ms"            // how long compaction keeps tombstones
	ConfigMinCleanableDirtyRatio = "min.cleanable.dirty.ratio"      // dirty share that starts compaction
	ConfigMaxMessageBytes        = "max.message.bytes"              // the largest batch a partition takes
	ConfigMinInsyncReplicas      = "min.insync.replicas"            // replicas an acks=all write needs
	ConfigUncleanLeaderElection  = "unclean.leader.election.enable" // true: an out-of-sync replica may lead, losing records
	ConfigMessageTimestampType   = "message.timestamp.type"         // CreateTime or LogAppendTime
	ConfigCompressionType        = "compression.type"               // producer, uncompressed, gzip, snappy, lz4, zstd
	ConfigFlushMs                = "flush.ms"                       // sync interval under creek.sync=periodic
	ConfigSync                   = "creek.sync"                     // every-append, periodic or never
	// ConfigProducerIDExpirationMs is how long a partition remembers an
	// idempotent producer that has stopped appending; a broker setting in
	// Kafka, which Config.TopicDefaults sets for every topic.
	ConfigProducerIDExpirationMs = "producer.id.expiration.ms"
)

// topicConfigDefaults are Kafka's defaults, and creek's for creek.sync: a
// topic syncs before it acknowledges unless told otherwise.
var topicConfigDefaults = map[string]string{
	ConfigCleanupPolicy:          "delete",
	ConfigRetentionMs:            "604800000", // 7 days
	ConfigRetentionBytes:         "-1",
	ConfigSegmentBytes:           "1073741824", // 1 GiB
	ConfigSegmentMs:              "604800000",
	ConfigIndexIntervalBytes:     "4096",
	ConfigDeleteRetentionMs:      "86400000", // 1 day
	ConfigMinCleanableDirtyRatio: "0.5",
	ConfigMaxMessageBytes:        "1048588",
	ConfigMinInsyncReplicas:      "1",
	ConfigUncleanLeaderElection:  "false",
	ConfigMessageTimestampType:   "CreateTime",
	ConfigCompressionType:        "producer",
	ConfigFlushMs:                "1000",
	ConfigSync:                   "every-append",
	ConfigProducerIDExpirationMs: "86400000", // 1 day
}

// topicConfig is a topic's settings, parsed from its configs.
type topicConfig struct {
	log               LogConfig
	minInsyncReplicas int
	timestampType     batch.TimestampType
	compression       batch.Compression
	keepCompression   bool // compression.type=producer: store batches as they come
	// producerIDExpiration is how long an idle producer is remembered.
	producerIDExpiration time.Duration
}

// parseTopicConfig parses the configs of a topic: Kafka's defaults, then
// nodeDefaults, then set. Every problem is reported at once, each matching
// ErrInvalidConfig.
func parseTopicConfig(nodeDefaults, set map[string]string) (topicConfig, error) {
	all := maps.Clone(topicConfigDefaults)
	var errs []error
	for _, m := range []map[string]string{nodeDefaults, set} {
		for name, value := range m {
			if _, known := topicConfigDefaults[name]; !known {
				errs = append(errs, fmt.Errorf("%w: unknown topic config %q", ErrInvalidConfig, name))
				continue
			}
			all[name] = value
		}
	}
	p := configParser{values: all}
	var c topicConfig
	switch strings.ReplaceAll(all[ConfigCleanupPolicy], " ", "") {
	case "delete":
		c.log.Cleanup = CleanupDelete
	case "compact":
		c.log.Cleanup = CleanupCompact
	case "compact,delete", "delete,compact":
		c.log.Cleanup = CleanupCompactDelete
	default:
		p.bad(ConfigCleanupPolicy, "delete, compact or compact,delete")
	}
	// A LogConfig reads zero as "no limit" or "the default", so the values
	// that Kafka allows to be zero are mapped around it.
	c.log.Retention = p.millisOrForever(ConfigRetentionMs)
	c.log.RetentionBytes = p.intOrUnlimited(ConfigRetentionBytes)
	c.log.SegmentBytes = p.intIn(ConfigSegmentBytes, 1024, maxSegmentBytes)
	c.log.SegmentAge = p.millis(ConfigSegmentMs, 1)
	c.log.IndexIntervalBytes = max(int(p.intIn(ConfigIndexIntervalBytes, 0, math.MaxInt32)), 1)
	c.log.DeleteRetention = max(p.millis(ConfigDeleteRetentionMs, 0), time.Nanosecond)
	c.log.MaxBatchBytes = int(p.intIn(ConfigMaxMessageBytes, batch.HeaderSize, math.MaxInt32))
	c.log.SyncInterval = p.millis(ConfigFlushMs, 1)
	c.minInsyncReplicas = int(p.intIn(ConfigMinInsyncReplicas, 1, math.MaxInt16))
	c.producerIDExpiration = p.millis(ConfigProducerIDExpirationMs, 1)
	if v := all[ConfigUncleanLeaderElection]; v != "true" && v != "false" {
		p.bad(ConfigUncleanLeaderElection, "true or false") // the controller reads it from the metadata
	}
	if ratio, err := strconv.ParseFloat(all[ConfigMinCleanableDirtyRatio], 64); err != nil || ratio < 0 || ratio > 1 {
		p.bad(ConfigMinCleanableDirtyRatio, "a number from 0 to 1")
	} else {
		c.log.MinCleanableRatio = max(ratio, math.SmallestNonzeroFloat64) // 0 would mean the default
	}
	switch all[ConfigMessageTimestampType] {
	case "CreateTime":
		c.timestampType = batch.CreateTime
	case "LogAppendTime":
		c.timestampType = batch.LogAppendTime
	default:
		p.bad(ConfigMessageTimestampType, "CreateTime or LogAppendTime")
	}
	codecs := map[string]batch.Compression{"uncompressed": batch.None, "gzip": batch.Gzip,
		"snappy": batch.Snappy, "lz4": batch.LZ4, "zstd": batch.Zstd}
	if codec, ok := codecs[all[ConfigCompressionType]]; ok {
		c.compression = codec
	} else if all[ConfigCompressionType] == "producer" {
		c.keepCompression = true
	} else {
		p.bad(ConfigCompressionType, "producer, uncompressed, gzip, snappy, lz4 or zstd")
	}
	switch all[ConfigSync] {
	case SyncEveryAppend.String():
		c.log.Sync = SyncEveryAppend
	case SyncPeriodically.String():
		c.log.Sync = SyncPeriodically
	case SyncNever.String():
		c.log.Sync = SyncNever
	default:
		p.bad(ConfigSync, "every-append, periodic or never")
	}
	// As in Kafka, a batch must also fit in a segment: the smaller limit
	// holds (a larger batch gets ErrMessageTooLarge).
	c.log.MaxBatchBytes = min(c.log.MaxBatchBytes, int(c.log.SegmentBytes))
	if err := errors.Join(append(errs, p.errs...)...); err != nil {
		return topicConfig{}, err
	}
	return c, nil
}

// effectiveTopicConfigs returns every config of a topic with its value:
// Kafka's defaults, then nodeDefaults, then set.
func effectiveTopicConfigs(nodeDefaults, set map[string]string) map[string]string {
	all := maps.Clone(topicConfigDefaults)
	maps.Copy(all, nodeDefaults)
	maps.Copy(all, set)
	return all
}

// TopicConfigNames returns the names of the topic configs creek knows,
// sorted.
func TopicConfigNames() []string { return slices.Sorted(maps.Keys(topicConfigDefaults)) }

// configParser parses config values, collecting every problem.
type configParser struct {
	values map[string]string
	errs   []error
}

func (p *configParser) bad(name, want string) {
	p.errs = append(p.errs, fmt.Errorf("%w: %s=%q: want %s", ErrInvalidConfig, name, p.values[name], want))
}

// intIn parses an integer in [lo, hi].
func (p *configParser) intIn(name string, lo, hi int64) int64 {
	v, err := strconv.ParseInt(p.values[name], 10, 64)
	if err != nil || v < lo || v > hi {
		p.bad(name, fmt.Sprintf("an integer from %d to %d", lo, hi))
		return lo
	}
	return v
}

// millis parses a number of milliseconds, at least lo.
func (p *configParser) millis(name string, lo int64) time.Duration {
	return time.Duration(p.intIn(name, lo, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
}

// millisOrForever parses a positive number of milliseconds, or -1 for
// forever (zero in a LogConfig).
func (p *configParser) millisOrForever(name string) time.Duration {
	if p.values[name] == "-1" {
		return 0
	}
	return p.millis(name, 1)
}

// intOrUnlimited parses a positive integer, or -1 for no limit (zero in a
// LogConfig).
func (p *configParser) intOrUnlimited(name string) int64 {
	if p.values[name] == "-1" {
		return 0
	}
	return p.intIn(name, 1, math.MaxInt64)
}

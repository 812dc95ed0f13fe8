// The broker configs DescribeConfigs answers: the topic defaults under
// Kafka's broker names.

package creek

import (
	"strconv"
)

// brokerConfigNames are the names Kafka's broker configs give the topic
// configs they are the defaults of.
var brokerConfigNames = map[string]string{
	ConfigCleanupPolicy:          "log.cleanup.policy",
	ConfigRetentionMs:            "log.retention.ms",
	ConfigRetentionBytes:         "log.retention.bytes",
	ConfigSegmentBytes:           "log.segment.bytes",
	ConfigSegmentMs:              "log.roll.ms",
	ConfigIndexIntervalBytes:     "log.index.interval.bytes",
	ConfigDeleteRetentionMs:      "log.cleaner.delete.retention.ms",
	ConfigMinCleanableDirtyRatio: "log.cleaner.min.cleanable.ratio",
	ConfigMaxMessageBytes:        "message.max.bytes",
	ConfigMinInsyncReplicas:      "min.insync.replicas",
	ConfigUncleanLeaderElection:  "unclean.leader.election.enable",
	ConfigMessageTimestampType:   "log.message.timestamp.type",
	ConfigCompressionType:        "compression.type",
	ConfigFlushMs:                "log.flush.interval.ms",
	ConfigSync:                   "creek.sync",
	ConfigProducerIDExpirationMs: "producer.id.expiration.ms",
}

// BrokerConfigs returns the node's settings by the names of Kafka's
// broker configs: the topic defaults (Config.TopicDefaults over Kafka's)
// and the limits of its listener, what DescribeConfigs reports for a
// broker.
func (b kafkaBroker) BrokerConfigs() map[string]string {
	cfg, listener := b.n.cfg, b.n.kafka.Config()
	out := map[string]string{
		"node.id":                      strconv.Itoa(int(listener.NodeID)),
		"broker.id":                    strconv.Itoa(int(listener.NodeID)),
		"auto.create.topics.enable":    strconv.FormatBool(cfg.AutoCreateTopics),
		"num.partitions":               strconv.Itoa(int(cfg.AutoCreatePartitions)),
		"offsets.topic.num.partitions": strconv.Itoa(int(cfg.OffsetsTopicPartitions)),
		"socket.request.max.bytes":     strconv.Itoa(int(listener.MaxRequestBytes)),
		"queued.max.request.bytes":     strconv.FormatInt(listener.QueuedMaxRequestBytes, 10),
		"fetch.max.bytes":              strconv.Itoa(int(listener.FetchMaxBytes)),
	}
	for name, value := range effectiveTopicConfigs(cfg.TopicDefaults, nil) {
		if broker, ok := brokerConfigNames[name]; ok {
			out[broker] = value
		}
	}
	return out
}

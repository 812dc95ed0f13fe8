// The broker configs DescribeConfigs answers: the topic defaults under
// Kafka's broker names.

package creek

import (
	"net"
	"strconv"
	"strings"
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
// broker configs: the topic defaults (Config.TopicDefaults over Kafka's),
// its listeners and their limits, what DescribeConfigs reports for a
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
	for name, value := range b.n.listenerConfigs() {
		out[name] = value
	}
	for name, value := range effectiveTopicConfigs(cfg.TopicDefaults, nil) {
		if broker, ok := brokerConfigNames[name]; ok {
			out[broker] = value
		}
	}
	return out
}

// listenerConfigs returns the settings of the node's listeners by
// Kafka's names: listeners, advertised.listeners,
// listener.security.protocol.map, and in a cluster
// inter.broker.listener.name.
func (n *Node) listenerConfigs() map[string]string {
	configured, served := n.cfg.listeners(), n.kafka.Listeners() // in one order
	var listeners, advertised, protocols []string
	for i, l := range served {
		listeners = append(listeners, l.Name+"://"+l.Listener.Addr().String())
		advertised = append(advertised, l.Name+"://"+net.JoinHostPort(l.AdvertisedHost, strconv.Itoa(int(l.AdvertisedPort))))
		protocols = append(protocols, l.Name+":"+string(configured[i].Protocol))
	}
	out := map[string]string{"listeners": strings.Join(listeners, ","),
		"advertised.listeners":           strings.Join(advertised, ","),
		"listener.security.protocol.map": strings.Join(protocols, ",")}
	if n.cfg.Cluster != nil {
		out["inter.broker.listener.name"] = interBrokerListener(n.cfg.Cluster, served[0].Name)
	}
	return out
}

// The admin half of the Kafka listener's broker: topics, configs, records,
// groups.

package creek

import (
	"context"
	"fmt"

	"github.com/creekmq/creek/internal/kafka"
)

// The admin half of kafkaBroker.

func (b kafkaBroker) CreateTopic(ctx context.Context, name string, partitions int32, replicationFactor int16,
	assignment [][]int32, configs map[string]string, validateOnly bool) error {
	spec := TopicSpec{Partitions: max(partitions, 0), ReplicationFactor: max(replicationFactor, 0), Configs: configs,
		Assignment: assignment}
	if validateOnly {
		return b.n.validateCreateTopic(name, spec)
	}
	return b.n.CreateTopic(ctx, name, spec)
}

func (b kafkaBroker) DeleteTopic(ctx context.Context, name string) error {
	return b.n.DeleteTopic(ctx, name)
}

func (b kafkaBroker) CreatePartitions(ctx context.Context, name string, total int32, validateOnly bool) error {
	if !validateOnly {
		return b.n.CreatePartitions(ctx, name, total)
	}
	info, err := b.n.DescribeTopic(name)
	if err != nil {
		return err
	}
	if have := int32(len(info.Partitions)); total <= have {
		return fmt.Errorf("%w: %s has %d partitions; asked for %d", ErrInvalidPartitions, name, have, total)
	}
	return nil
}

func (b kafkaBroker) TopicConfigs(name string) (map[string]string, map[string]bool, error) {
	info, err := b.n.DescribeTopic(name)
	if err != nil {
		return nil, nil, err
	}
	b.n.mu.RLock()
	defer b.n.mu.RUnlock()
	explicit := map[string]bool{}
	if t := b.n.topics[name]; t != nil {
		for k := range t.configs {
			explicit[k] = true
		}
	}
	return info.Configs, explicit, nil
}

func (b kafkaBroker) AlterTopicConfigs(ctx context.Context, name string, set map[string]string, remove []string, validateOnly bool) error {
	return b.n.alterTopicConfig(ctx, name, set, remove, validateOnly)
}

func (b kafkaBroker) DeleteRecords(ctx context.Context, topic string, partition int32, before int64) (int64, error) {
	return b.n.DeleteRecords(ctx, topic, partition, before)
}

func (b kafkaBroker) ListGroups() []string { return b.n.localGroups() }

func (b kafkaBroker) DeleteGroup(ctx context.Context, group string) error {
	return b.n.deleteLocalGroup(ctx, group)
}

func (b kafkaBroker) DeleteGroupOffsets(ctx context.Context, group string, partitions []kafka.TopicPartition) error {
	tps := make([]TopicPartition, len(partitions))
	for i, tp := range partitions {
		tps[i] = TopicPartition(tp)
	}
	return b.n.deleteLocalGroupOffsets(ctx, group, tps...)
}

func (b kafkaBroker) ReassignPartitions(ctx context.Context, moves map[kafka.TopicPartition][]int32) map[kafka.TopicPartition]error {
	converted := make(map[TopicPartition][]int32, len(moves))
	for tp, r := range moves {
		converted[TopicPartition(tp)] = r
	}
	out := map[kafka.TopicPartition]error{}
	for tp, err := range b.n.ReassignPartitions(ctx, converted) {
		out[kafka.TopicPartition(tp)] = err
	}
	return out
}

func (b kafkaBroker) Reassignments(topics []string) []kafka.Reassignment {
	var out []kafka.Reassignment
	for _, r := range b.n.PartitionReassignments(topics...) {
		out = append(out, kafka.Reassignment{TopicPartition: kafka.TopicPartition(r.TopicPartition),
			Replicas: r.Replicas, Adding: r.Adding, Removing: r.Removing})
	}
	return out
}

func (b kafkaBroker) ElectPreferredLeaders(ctx context.Context, partitions []kafka.TopicPartition) map[kafka.TopicPartition]error {
	converted := make([]TopicPartition, len(partitions))
	for i, tp := range partitions {
		converted[i] = TopicPartition(tp)
	}
	out := map[kafka.TopicPartition]error{}
	for tp, err := range b.n.ElectPreferredLeaders(ctx, converted...) {
		out[kafka.TopicPartition(tp)] = err
	}
	return out
}

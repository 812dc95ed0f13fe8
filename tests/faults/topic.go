package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Topic is the topic the workload writes.
const Topic = "faults"

// replicationFactor is the topic's replication factor.
const replicationFactor = 3

// CreateTopic creates the topic with partitions partitions, replication
// factor 3 and min.insync.replicas=2, retrying until the controller has
// admitted enough nodes, then waits until every partition has a leader.
func CreateTopic(ctx context.Context, c *Cluster, partitions int) error {
	return createTopic(ctx, c, Topic, partitions)
}

// createTopic is CreateTopic for any topic.
func createTopic(ctx context.Context, c *Cluster, topic string, partitions int) error {
	configs := map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}
	err := waitFor(ctx, time.Minute, "create topic "+topic, func(ctx context.Context) (bool, error) {
		resp, err := c.Admin().CreateTopic(ctx, int32(partitions), replicationFactor, configs, topic)
		if err == nil {
			err = resp.Err
		}
		return err == nil || errors.Is(err, kerr.TopicAlreadyExists), err
	})
	if err != nil {
		return err
	}
	return waitFor(ctx, time.Minute, "a leader for every partition of "+topic, func(ctx context.Context) (bool, error) {
		leaders, err := c.Leaders(ctx, topic)
		if err != nil {
			return false, err
		}
		if len(leaders) != partitions {
			return false, fmt.Errorf("%d of %d partitions in metadata", len(leaders), partitions)
		}
		for p, l := range leaders {
			if l < 0 {
				return false, fmt.Errorf("partition %d has no leader", p)
			}
		}
		return true, nil
	})
}

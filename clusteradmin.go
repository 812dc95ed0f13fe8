// Topic changes in a cluster: new partitions and configs, committed by the
// controller.

package creek

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/controller"
)

// In a cluster, adding partitions and changing a topic's configs go
// through the controller, as creating and deleting topics do
// (clustertopics.go): the controller's leader commits the change, or
// another node forwards the request to it, and every node then applies
// the committed metadata.

// createClusterPartitions grows a topic to total partitions through the
// controller, placing the new partitions' replicas over the live nodes,
// and returns once this node has them.
func (n *Node) createClusterPartitions(ctx context.Context, name string, total int32) error {
	leader, err := n.controller.awaitLeader(ctx)
	if err != nil {
		return err
	}
	if leader == n.nodeID() { // its metadata is the committed one; another node's may lag
		t := n.controller.fsm.Metadata().Topics[name]
		if t == nil {
			return fmt.Errorf("%w: %s", ErrUnknownTopic, name)
		}
		if have := int32(len(t.Partitions)); total <= have {
			return fmt.Errorf("%w: %s has %d partitions; asked for %d", ErrInvalidPartitions, name, have, total)
		}
		err = n.proposePartitions(ctx, t, total)
	} else {
		req := kmsg.NewPtrCreatePartitionsRequest()
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = name, total
		req.Topics = []kmsg.CreatePartitionsRequestTopic{rt}
		req.TimeoutMillis = 30_000
		var resp kmsg.Response
		if resp, err = n.askController(ctx, req); err == nil {
			got := resp.(*kmsg.CreatePartitionsResponse).Topics
			if len(got) != 1 {
				return fmt.Errorf("the controller answered for %d topics", len(got))
			}
			err = errorForCode(got[0].ErrorCode, "create partitions of "+name+" on the controller")
		}
	}
	if err != nil {
		return err
	}
	for { // until the reconciler has opened them here
		changed := n.watchMetadata()
		if have, err := n.existingPartitionCount(name); err == nil && have >= total {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// proposePartitions places the partitions a topic gains and commits them.
func (n *Node) proposePartitions(ctx context.Context, t *controller.Topic, total int32) error {
	have := len(t.Partitions)
	replicas, err := n.placeReplicas(int(total)-have, len(t.Partitions[0].Replicas), have)
	if err != nil {
		return err
	}
	err = n.controller.propose(ctx, controller.Command{CreatePartitions: &controller.CreatePartitions{
		Name: t.Name, Replicas: replicas}})
	if errors.Is(err, controller.ErrRejected) {
		return fmt.Errorf("%w: %s changed meanwhile: %w", ErrInvalidPartitions, t.Name, err)
	}
	return err
}

// alterClusterTopicConfig commits a topic's new explicit configs through
// the controller, after checking them here; every node then applies them.
func (n *Node) alterClusterTopicConfig(ctx context.Context, name string, set map[string]string, remove []string) error {
	if _, err := parseTopicConfig(n.cfg.TopicDefaults, set); err != nil {
		return fmt.Errorf("alter topic %s: %w", name, err)
	}
	leader, err := n.controller.awaitLeader(ctx)
	if err != nil {
		return err
	}
	if leader != n.nodeID() {
		return n.forwardAlterConfigs(ctx, name, set, remove) // the reconciler applies them here soon
	}
	t := n.controller.fsm.Metadata().Topics[name]
	if t == nil {
		return fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	configs := maps.Clone(t.Configs)
	if configs == nil {
		configs = map[string]string{}
	}
	maps.Copy(configs, set)
	for _, k := range remove {
		delete(configs, k)
	}
	if err := n.controller.propose(ctx, controller.Command{AlterConfigs: &controller.AlterConfigs{Name: name, Configs: configs}}); err != nil {
		return err
	}
	for { // until the reconciler has applied them here
		changed := n.watchMetadata()
		if n.topicConfigsAre(name, configs) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// forwardAlterConfigs asks the controller's leader to change a topic's
// configs.
func (n *Node) forwardAlterConfigs(ctx context.Context, name string, set map[string]string, remove []string) error {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, name
	for _, k := range slices.Sorted(maps.Keys(set)) {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		v := set[k]
		c.Name, c.Op, c.Value = k, kmsg.IncrementalAlterConfigOpSet, &v
		res.Configs = append(res.Configs, c)
	}
	for _, k := range remove {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op = k, kmsg.IncrementalAlterConfigOpDelete
		res.Configs = append(res.Configs, c)
	}
	req.Resources = []kmsg.IncrementalAlterConfigsRequestResource{res}
	resp, err := n.askController(ctx, req)
	if err != nil {
		return err
	}
	got := resp.(*kmsg.IncrementalAlterConfigsResponse).Resources
	if len(got) != 1 {
		return fmt.Errorf("the controller answered for %d resources", len(got))
	}
	return errorForCode(got[0].ErrorCode, "alter configs of "+name+" on the controller")
}

// topicConfigsAre reports whether this node's topic has exactly configs
// set explicitly.
func (n *Node) topicConfigsAre(name string, configs map[string]string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	t := n.topics[name]
	return t != nil && maps.Equal(t.configs, configs) || t != nil && len(t.configs) == 0 && len(configs) == 0
}

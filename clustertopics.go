// Topics in a cluster: created and deleted by the controller, applied by
// every node.

package creek

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/raft"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/controller"
)

// In a cluster, topics belong to the controller: creating or deleting one
// commits a command through Raft, on the controller's leader (a node that
// does not lead forwards the request to it over the Kafka protocol, as a
// Kafka client would), and every node then makes its local topics match
// the committed metadata. Each node keeps every partition of every topic,
// so that it can route requests for any of them; only the replicas hold
// records (replication.go).

// createClusterTopic creates a topic through the controller and returns
// once this node holds it. A commit cut short by the controller's leader
// losing its leadership has an unknown outcome: it is tried again, with
// the same topic ID, on the next leader, and the ID tells a topic the lost
// attempt committed after all from another's.
func (n *Node) createClusterTopic(ctx context.Context, name string, spec TopicSpec) error {
	spec, _, err := n.checkTopicSpec(name, spec)
	if err != nil {
		return err
	}
	if _, exists := n.controller.fsm.Metadata().Topics[name]; exists {
		return fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	if spec.id == ([16]byte{}) {
		if _, err := rand.Read(spec.id[:]); err != nil {
			return err
		}
	}
	for {
		_, err := n.commitTopic(ctx, name, spec)
		if t := n.controller.fsm.Metadata().Topics[name]; err != nil && t != nil && t.ID == spec.id {
			err = nil // an attempt whose answer was lost committed it
		}
		if err == nil || !leadershipLost(err) {
			if err != nil {
				return err
			}
			return n.waitForTopic(ctx, name, true)
		}
		select { // a new leader is being elected
		case <-time.After(dutyRetry):
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
	}
}

// leadershipLost reports whether a change failed because the
// controller's leader lost its leadership before committing it, or was
// not the leader by the time it asked: its outcome is unknown, and the
// next leader may be asked again.
func leadershipLost(err error) bool {
	return errors.Is(err, raft.ErrLeadershipLost) || errors.Is(err, raft.ErrNotLeader) || errors.Is(err, ErrNotController)
}

// commitTopic has the controller's leader commit a new topic, and returns
// the topic's ID. A node that does not lead forwards the request to it
// over the Kafka protocol, as a Kafka client would.
func (n *Node) commitTopic(ctx context.Context, name string, spec TopicSpec) ([16]byte, error) {
	leader, err := n.controller.awaitLeader(ctx)
	if err != nil {
		return [16]byte{}, err
	}
	if leader != n.cfg.Cluster.NodeID {
		return n.forwardCreateTopic(ctx, name, spec)
	}
	return n.proposeTopic(ctx, name, spec)
}

// proposeTopic commits a new topic on the controller's leader, with the
// replicas its spec assigns, on live nodes, or placed over the live nodes,
// and the ID its spec carries or a new one.
func (n *Node) proposeTopic(ctx context.Context, name string, spec TopicSpec) ([16]byte, error) {
	replicas := spec.Assignment
	var err error
	if len(replicas) == 0 {
		replicas, err = n.placeReplicas(int(spec.Partitions), int(spec.ReplicationFactor), len(n.controller.fsm.Metadata().Topics))
	} else {
		err = n.checkLiveReplicas(replicas)
	}
	if err != nil {
		return [16]byte{}, err
	}
	id := spec.id
	if id == ([16]byte{}) {
		if _, err := rand.Read(id[:]); err != nil {
			return [16]byte{}, err
		}
	}
	err = n.controller.propose(ctx, controller.Command{CreateTopic: &controller.CreateTopic{
		Name: name, ID: id, Configs: maps.Clone(spec.Configs), Replicas: replicas}})
	if errors.Is(err, controller.ErrRejected) {
		return [16]byte{}, fmt.Errorf("%w: %s", ErrTopicExists, name) // another node created it meanwhile
	}
	return id, err
}

// checkLiveReplicas checks that replicas placed by hand are on live nodes.
func (n *Node) checkLiveReplicas(assignment [][]int32) error {
	live := n.liveNodeIDs()
	for i, replicas := range assignment {
		for _, id := range replicas {
			if !slices.Contains(live, id) {
				return fmt.Errorf("%w: partition %d on node %d, which is not a live member", ErrInvalidReplicaAssignment, i, id)
			}
		}
	}
	return nil
}

// placeReplicas chooses replicas for partitions new partitions over the
// live nodes and their racks (controller.Place), leaders rotating from
// start.
func (n *Node) placeReplicas(partitions, replicationFactor, start int) ([][]int32, error) {
	var nodes []controller.Node
	for _, m := range n.ClusterMembers() {
		nodes = append(nodes, controller.Node{ID: m.NodeID, Rack: m.Rack})
	}
	replicas, err := controller.Place(nodes, partitions, replicationFactor, start)
	if errors.Is(err, controller.ErrNotEnoughNodes) {
		return nil, fmt.Errorf("%w: %d replicas over %d live nodes", ErrInvalidReplicationFactor, replicationFactor, len(nodes))
	}
	return replicas, err
}

// forwardCreateTopic asks the controller's leader to create the topic,
// and returns the ID it gave it.
func (n *Node) forwardCreateTopic(ctx context.Context, name string, spec TopicSpec) ([16]byte, error) {
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, spec.Partitions, spec.ReplicationFactor
	if len(spec.Assignment) > 0 {
		rt.NumPartitions, rt.ReplicationFactor = -1, -1
		for i, replicas := range spec.Assignment {
			rt.ReplicaAssignment = append(rt.ReplicaAssignment,
				kmsg.CreateTopicsRequestTopicReplicaAssignment{Partition: int32(i), Replicas: replicas})
		}
	}
	for k, v := range spec.Configs {
		rt.Configs = append(rt.Configs, kmsg.CreateTopicsRequestTopicConfig{Name: k, Value: &v})
	}
	req.Topics = []kmsg.CreateTopicsRequestTopic{rt}
	resp, err := n.askController(ctx, req)
	if err != nil {
		return [16]byte{}, err
	}
	got := resp.(*kmsg.CreateTopicsResponse).Topics
	if len(got) != 1 {
		return [16]byte{}, fmt.Errorf("the controller answered for %d topics", len(got))
	}
	return got[0].TopicID, errorForCode(got[0].ErrorCode, "create topic "+name+" on the controller")
}

// deleteClusterTopic deletes a topic through the controller and returns
// once this node no longer holds it.
func (n *Node) deleteClusterTopic(ctx context.Context, name string) error {
	if _, exists := n.controller.fsm.Metadata().Topics[name]; !exists {
		return fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	leader, err := n.controller.awaitLeader(ctx)
	if err != nil {
		return err
	}
	if leader == n.cfg.Cluster.NodeID {
		err = n.controller.propose(ctx, controller.Command{DeleteTopic: &controller.DeleteTopic{Name: name}})
	} else {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TopicNames = []string{name}
		rt := kmsg.NewDeleteTopicsRequestTopic()
		rt.Topic = &name
		req.Topics = []kmsg.DeleteTopicsRequestTopic{rt}
		var resp kmsg.Response
		if resp, err = n.askController(ctx, req); err == nil {
			got := resp.(*kmsg.DeleteTopicsResponse).Topics
			if len(got) != 1 {
				return fmt.Errorf("the controller answered for %d topics", len(got))
			}
			err = errorForCode(got[0].ErrorCode, "delete topic "+name+" on the controller")
		}
	}
	if err != nil {
		return err
	}
	return n.waitForTopic(ctx, name, false)
}

// askController sends a request to the controller's leader, over this
// node's connection to it.
func (n *Node) askController(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	leader, err := n.controller.awaitLeader(ctx)
	if err != nil {
		return nil, err
	}
	if n.memberKafkaAddr(leader) == "" {
		return nil, fmt.Errorf("%w: no controller leader is known yet", ErrNotController)
	}
	return n.peers.request(ctx, leader, req)
}

// waitForTopic waits until this node holds the topic (or no longer does),
// as the reconciler makes it match the committed metadata.
func (n *Node) waitForTopic(ctx context.Context, name string, present bool) error {
	for {
		changed := n.watchMetadata()
		if n.hasTopic(name) == present {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// reconcileConfigs gives this node's copy of a topic the explicit configs
// the cluster committed.
func (n *Node) reconcileConfigs(ctx context.Context, name string, committed map[string]string) error {
	if n.topicConfigsAre(name, committed) {
		return nil
	}
	n.mu.RLock()
	var remove []string
	if t := n.topics[name]; t != nil {
		for k := range t.configs {
			if _, kept := committed[k]; !kept {
				remove = append(remove, k)
			}
		}
	}
	n.mu.RUnlock()
	return n.alterLocalTopicConfig(ctx, name, committed, remove, false)
}

// reconcileTopics makes this node's topics match the committed metadata:
// it creates topics it lacks (with the cluster's topic ID), adds
// partitions, and deletes topics the cluster deleted. Internal topics stay
// the node's own. Topics the node held before it joined the cluster are
// adopted first (adopt.go). It reports whether it did all it had to.
func (n *Node) reconcileTopics(ctx context.Context) (done bool) {
	meta := n.controller.fsm.Metadata()
	done = n.adoptTopics(ctx, meta)
	if !n.dropUnknownTopics(ctx, meta) {
		done = false
	}
	for _, name := range meta.TopicNames() {
		t := meta.Topics[name]
		count := int32(len(t.Partitions))
		have, err := n.existingPartitionCount(name)
		switch {
		case errors.Is(err, ErrUnknownTopic):
			err = n.createTopic(ctx, name, TopicSpec{Partitions: count, ReplicationFactor: int16(len(t.Partitions[0].Replicas)),
				Configs: t.Configs, id: t.ID})
		case err == nil && have < count:
			err = n.createLocalPartitions(ctx, name, count)
		}
		if err == nil {
			err = n.reconcileConfigs(ctx, name, t.Configs)
		}
		if err != nil && !errors.Is(err, ErrTopicExists) {
			n.log.Warn("could not take a topic from the cluster's metadata", "topic", name, "err", err)
			done = false
		}
	}
	return done
}

// dropUnknownTopics removes the local topics the metadata does not hold
// under their ID (absent, or its name now another topic's): a topic whose
// deletion the metadata records by ID loses its data; any other is set
// aside as stray, its files kept. Absence alone never deletes data: the
// metadata may be older than the topic, or the topic older than what the
// metadata remembers of deletions.
func (n *Node) dropUnknownTopics(ctx context.Context, meta *controller.Metadata) (done bool) {
	done = true
	for _, t := range n.localTopics() {
		if mt := meta.Topics[t.name]; (mt != nil && mt.ID == t.id) || internalTopic(t.name) || n.awaitsAdoption(t.name) {
			continue
		}
		var err error
		if meta.WasDeleted(t.id) {
			err = n.deleteLocalTopic(ctx, t.name)
		} else {
			err = n.setAside(t, "the cluster's metadata does not hold it under its topic ID")
		}
		if err != nil {
			n.log.Warn("could not remove a topic the cluster does not hold", "topic", t.name, "err", err)
			done = false
		}
	}
	return done
}

// localTopics returns the node's open topics.
func (n *Node) localTopics() []*topic {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return slices.Collect(maps.Values(n.topics))
}

// checkAssignment checks a topic's replicas placed by hand and sets its
// partition count and replication factor from them.
func (n *Node) checkAssignment(spec TopicSpec) (TopicSpec, error) {
	if n.controller == nil {
		return spec, fmt.Errorf("%w: a node outside a cluster holds the only replica", ErrInvalidReplicaAssignment)
	}
	partitions, factor := int32(len(spec.Assignment)), int16(len(spec.Assignment[0]))
	switch {
	case spec.Partitions != 0 && spec.Partitions != partitions:
		return spec, fmt.Errorf("%w: %d partitions with replicas for %d", ErrInvalidPartitions, spec.Partitions, partitions)
	case spec.ReplicationFactor != 0 && spec.ReplicationFactor != factor:
		return spec, fmt.Errorf("%w: replication factor %d with %d replicas for partition 0",
			ErrInvalidReplicationFactor, spec.ReplicationFactor, factor)
	}
	for i, replicas := range spec.Assignment {
		if len(replicas) == 0 || len(replicas) != int(factor) {
			return spec, fmt.Errorf("%w: partition %d has %d replicas, partition 0 %d",
				ErrInvalidReplicaAssignment, i, len(replicas), factor)
		}
		for j, id := range replicas {
			if slices.Contains(replicas[:j], id) {
				return spec, fmt.Errorf("%w: partition %d names node %d twice", ErrInvalidReplicaAssignment, i, id)
			}
		}
	}
	spec.Partitions, spec.ReplicationFactor = partitions, factor
	return spec, nil
}

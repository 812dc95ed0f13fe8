// Adoption: the topics a node kept before it joined a cluster, handed to the
// controller.

package creek

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/hashicorp/raft"

	"github.com/creekmq/creek/internal/controller"
)

// A node that ran alone before it joined a cluster holds topics the
// controller does not know, and the reconciler deletes the topics the
// controller does not know, as topics the cluster deleted. So on a node's
// first start in a cluster (it has no Raft state yet) its topics are
// marked for adoption, in its registry. The node that leads the
// controller — the one that bootstrapped it, when a standalone node grows
// into a cluster — commits each as a topic of the cluster, with its ID,
// configs and partitions, and itself as the only replica; reassignment
// adds replicas. A topic the node cannot adopt, because the cluster has
// another topic of that name or another node leads the controller, is set
// aside: its partition directories are renamed
// <topic>-<partition>.<topic ID>-stray, as Kafka does with stray logs,
// and kept for an operator, never deleted.

// straySuffix ends the name of a partition directory set aside.
const straySuffix = "-stray"

// markAdoptable marks every topic of a node joining a cluster for the
// first time for adoption.
func (n *Node) markAdoptable() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.topics) == 0 {
		return nil
	}
	for _, t := range n.topics {
		t.adopt = true
	}
	if err := n.saveLocked(); err != nil {
		return fmt.Errorf("mark the topics of a node joining a cluster for adoption: %w", err)
	}
	return nil
}

// adoptTopics brings the topics marked for adoption into the cluster, or
// sets them aside; it runs before the reconciler, which would delete them.
// It reports whether it is done: false asks for another try.
func (n *Node) adoptTopics(ctx context.Context, meta *controller.Metadata) bool {
	done := true
	for _, t := range n.adoptable() {
		committed := meta.Topics[t.name]
		var err error
		switch {
		case committed != nil && committed.ID == t.id:
			err = n.finishAdoption(t)
		case committed != nil:
			err = n.setAside(t, "the cluster has another topic of that name")
		case internalTopic(t.name) && n.controller.raft.State() != raft.Leader:
			err = n.setAside(t, "only the node leading the controller adopts an internal topic, and another one does")
		default:
			err = n.adopt(ctx, t)
		}
		if err != nil {
			n.log.Warn("could not adopt a topic this node held before it joined the cluster", "topic", t.name, "err", err)
			done = false
		}
	}
	return done
}

// adoptable returns the topics marked for adoption.
func (n *Node) adoptable() []*topic {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []*topic
	for _, t := range n.topics {
		if t.adopt {
			out = append(out, t)
		}
	}
	return out
}

// adopt commits a topic of this node as the cluster's, with this node its
// only replica. The controller's leader keeps the topic's ID; a node that
// does not lead asks the leader with CreateTopics, which cannot carry the
// ID, and takes the one the leader gave. Should the node stop before it
// records that ID, its next start finds the topic under another ID and
// sets its copy aside. The mark stays until this node's metadata holds
// the topic: until then the reconciler would delete it.
func (n *Node) adopt(ctx context.Context, t *topic) error {
	n.mu.RLock()
	spec := TopicSpec{Configs: maps.Clone(t.configs), Assignment: make([][]int32, len(t.partitions)), id: t.id}
	n.mu.RUnlock()
	for i := range spec.Assignment {
		spec.Assignment[i] = []int32{n.nodeID()}
	}
	spec, _, err := n.checkTopicSpec(t.name, spec)
	if err != nil {
		return err
	}
	id, err := n.commitTopic(ctx, t.name, spec)
	if errors.Is(err, ErrTopicExists) {
		return nil // another topic of the name came first: the next reconciliation sets this one aside
	}
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if t.id == id {
		return nil
	}
	oldID := t.id
	t.id = id
	if err := n.saveLocked(); err != nil {
		t.id = oldID
		return fmt.Errorf("record the ID the cluster gave topic %s: %w", t.name, err)
	}
	return nil
}

// finishAdoption clears the mark of a topic this node's metadata holds.
func (n *Node) finishAdoption(t *topic) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	t.adopt = false
	if err := n.saveLocked(); err != nil {
		t.adopt = true
		return err
	}
	n.log.Info("adopted a topic this node held before it joined the cluster", "topic", t.name,
		"partitions", len(t.partitions), "replicas", []int32{n.nodeID()})
	return nil
}

// setAside closes a topic, renames its partition directories as stray
// and forgets it, keeping its files.
func (n *Node) setAside(t *topic, reason string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.topics[t.name] != t {
		return nil
	}
	err := t.close()
	id := hex.EncodeToString(t.id[:])
	for _, p := range t.partitions {
		if err == nil {
			err = n.fs.Rename(p.dir, p.dir+"."+id+straySuffix)
		}
	}
	if err == nil {
		err = n.fs.SyncDir(n.dir)
	}
	if err != nil { // its registry entry stays: the next start opens what was not renamed
		return fmt.Errorf("set aside topic %s: %w", t.name, err)
	}
	delete(n.topics, t.name)
	if err := n.saveLocked(); err != nil {
		return fmt.Errorf("set aside topic %s: %w", t.name, err)
	}
	n.metadataChangedLocked()
	n.log.Warn("set aside a topic the cluster does not hold as this node does; its files are kept",
		"topic", t.name, "reason", reason, "dirs", t.name+"-*."+id+straySuffix)
	return nil
}

// isStray reports whether a directory of the node's is a partition set
// aside.
func isStray(name string) bool { return strings.HasSuffix(name, straySuffix) }

// awaitsAdoption reports whether a topic is marked for adoption.
func (n *Node) awaitsAdoption(name string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	t := n.topics[name]
	return t != nil && t.adopt
}

package controller

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Command is one change to the metadata, as the Raft log carries it.
// Exactly one field is set.
type Command struct {
	CreateTopic      *CreateTopic      `json:"createTopic,omitempty"`
	DeleteTopic      *DeleteTopic      `json:"deleteTopic,omitempty"`
	CreatePartitions *CreatePartitions `json:"createPartitions,omitempty"`
	AlterConfigs     *AlterConfigs     `json:"alterConfigs,omitempty"`
	ChangeLeader     *ChangeLeader     `json:"changeLeader,omitempty"`
	ChangeISR        *ChangeISR        `json:"changeIsr,omitempty"`
	Reassign         *Reassign         `json:"reassign,omitempty"`
	FinishReassign   *FinishReassign   `json:"finishReassign,omitempty"`
	PreferLeader     *PreferLeader     `json:"preferLeader,omitempty"`
	RegisterNode     *RegisterNode     `json:"registerNode,omitempty"`
	SeedScram        *SeedScram        `json:"seedScram,omitempty"`
	AlterScram       *AlterScram       `json:"alterScram,omitempty"`
	CreateACLs       *CreateACLs       `json:"createAcls,omitempty"`
	DeleteACLs       *DeleteACLs       `json:"deleteAcls,omitempty"`
}

// CreateTopic creates a topic whose partitions have the given replicas;
// each partition starts led by its first replica, with every replica in
// sync, at leader epoch 0.
type CreateTopic struct {
	Name     string            `json:"name"`
	ID       [16]byte          `json:"id"`
	Configs  map[string]string `json:"configs,omitempty"`
	Replicas [][]int32         `json:"replicas"` // per partition
}

// DeleteTopic deletes a topic.
type DeleteTopic struct {
	Name string `json:"name"`
}

// CreatePartitions adds partitions with the given replicas.
type CreatePartitions struct {
	Name     string    `json:"name"`
	Replicas [][]int32 `json:"replicas"` // per new partition
}

// AlterConfigs replaces a topic's explicitly set configs.
type AlterConfigs struct {
	Name    string            `json:"name"`
	Configs map[string]string `json:"configs"`
}

// ChangeLeader makes Leader (-1: none) lead a partition at the next
// leader epoch, with ISR as its in-sync replicas.
type ChangeLeader struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Leader    int32   `json:"leader"`
	ISR       []int32 `json:"isr"`
}

// ChangeISR sets a partition's in-sync replicas, as its leader asks when a
// follower falls behind or catches up; it applies only at LeaderEpoch, so a
// deposed leader's request changes nothing.
type ChangeISR struct {
	Topic       string  `json:"topic"`
	Partition   int32   `json:"partition"`
	LeaderEpoch int32   `json:"leaderEpoch"`
	ISR         []int32 `json:"isr"`
}

// Reassign starts moving a partition to Replicas, in preference order
// (KIP-455): the new replicas join and copy the log while the old ones
// serve. With Replicas empty it cancels the reassignment under way, and
// the partition keeps its old replicas.
type Reassign struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
}

// FinishReassign completes a partition's reassignment once every new
// replica is in sync: the replicas become the target, the old ones leave
// the ISR, and a leader that is not wanted hands over to the first
// in-sync replica of the target. It applies only at LeaderEpoch.
type FinishReassign struct {
	Topic       string `json:"topic"`
	Partition   int32  `json:"partition"`
	LeaderEpoch int32  `json:"leaderEpoch"`
}

// PreferLeader makes a partition's preferred replica, its first, lead
// again, if it is in sync; it applies only at LeaderEpoch.
type PreferLeader struct {
	Topic       string `json:"topic"`
	Partition   int32  `json:"partition"`
	LeaderEpoch int32  `json:"leaderEpoch"`
}

// RegisterNode records the incarnation a node's process started with, as
// a KRaft broker registers: the controller's leader commits it once it has
// moved leadership away from the node's previous incarnation and out of
// the ISRs it was in (OnRestarts), and a node acts on metadata only once
// its own FSM has applied its current registration — so it has applied
// everything committed before it started.
type RegisterNode struct {
	Node        int32  `json:"node"`
	Incarnation uint64 `json:"incarnation"`
}

// commandVersion is the format of encoded commands: a version byte, then
// JSON. Part of the format: a change adds a version and still reads this.
const commandVersion = 1

// maxCommandBytes bounds an encoded command.
const maxCommandBytes = 1 << 20

// ErrBadCommand marks bytes that are not a command.
var ErrBadCommand = errors.New("controller: malformed command")

// Encode encodes a command for the Raft log.
func (c Command) Encode() ([]byte, error) {
	if c.count() != 1 {
		return nil, fmt.Errorf("%w: %d changes in one command", ErrBadCommand, c.count())
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append([]byte{commandVersion}, b...), nil
}

// DecodeCommand decodes a command from the Raft log.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if len(b) < 2 || len(b) > maxCommandBytes || b[0] != commandVersion {
		return c, fmt.Errorf("%w: %d bytes", ErrBadCommand, len(b))
	}
	if err := json.Unmarshal(b[1:], &c); err != nil {
		return Command{}, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	if c.count() != 1 {
		return Command{}, fmt.Errorf("%w: %d changes in one command", ErrBadCommand, c.count())
	}
	return c, nil
}

func (c Command) count() int {
	n := 0
	for _, set := range []bool{c.CreateTopic != nil, c.DeleteTopic != nil, c.CreatePartitions != nil,
		c.AlterConfigs != nil, c.ChangeLeader != nil, c.ChangeISR != nil, c.Reassign != nil, c.FinishReassign != nil,
		c.PreferLeader != nil, c.RegisterNode != nil, c.SeedScram != nil, c.AlterScram != nil,
		c.CreateACLs != nil, c.DeleteACLs != nil} {
		if set {
			n++
		}
	}
	return n
}

// Package group is creek's group coordinator: Kafka's classic consumer
// group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) as a state
// machine per group.
//
// A group moves Empty → PreparingRebalance (members join; the phase ends
// when every known member has rejoined or the longest rebalance timeout
// passes) → CompletingRebalance (the generation is formed; the leader
// computes the assignment) → Stable (the leader's SyncGroup delivered every
// assignment). A join, a leave or an expired session sends a stable group
// back to PreparingRebalance. Generations fence members that missed a
// rebalance; instance IDs (static membership, KIP-345) fence an older
// process of the same member.
//
// The coordinator does not decode assignments or store offsets: the
// assignors run in the group leader, as in Kafka, and the caller keeps
// offsets in __consumer_offsets, asking ValidateCommit first.
package group

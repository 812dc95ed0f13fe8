// Package controller holds a creek cluster's metadata — topics, their
// partitions' replicas, leader and leader epoch, and in-sync replicas —
// as a deterministic state machine stepped by commands (DESIGN.md
// decision 6). The Raft log carries the commands; every node applies the
// same ones in the same order and so holds the same metadata. The
// decisions that produce commands — placing replicas, electing leaders
// when a node fails — are plain functions of the metadata and the live
// nodes, so they are tested without a network or a clock.
package controller

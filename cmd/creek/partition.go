package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// partitionCommand runs creek partition reassign|reassignments|elect-leaders.
func partitionCommand(ctx context.Context, args []string, io streams) error {
	var partition *int
	var replicas *string
	var cancel *bool
	sub, names, adm, err := adminSubcommand("partition", "reassign|reassignments|elect-leaders [TOPIC] [flags]", args, io,
		func(fs *flag.FlagSet) {
			partition = fs.Int("partition", -1, "reassign, elect-leaders: the partition (-1: every partition of TOPIC)")
			replicas = fs.String("replicas", "", "reassign: the new replicas' node IDs, comma-separated, preferred leader first")
			cancel = fs.Bool("cancel", false, "reassign: cancel the reassignment under way")
		})
	if err != nil {
		return err
	}
	defer adm.Close()
	switch sub {
	case "reassign":
		if len(names) != 1 || *partition < 0 || (*replicas == "") == !*cancel {
			fmt.Fprintln(io.err, "usage: creek partition reassign TOPIC --partition N (--replicas ID,ID,... | --cancel)")
			return errUsage
		}
		return reassign(ctx, adm, names[0], int32(*partition), *replicas, io)
	case "reassignments":
		return listReassignments(ctx, adm, names, io)
	case "elect-leaders":
		return electLeaders(ctx, adm, names, int32(*partition), io)
	}
	fmt.Fprintf(io.err, "creek partition: unknown subcommand %q\n", sub)
	return errUsage
}

// reassign starts moving a partition to new replicas, or cancels a move.
func reassign(ctx context.Context, adm *adminClient, topic string, partition int32, replicas string, io streams) error {
	var req kadm.AlterPartitionAssignmentsReq
	if replicas == "" {
		req.CancelAssign(topic, partition)
	} else {
		var ids []int32
		for _, s := range strings.Split(replicas, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
			if err != nil {
				return fmt.Errorf("--replicas %q: %w", replicas, err)
			}
			ids = append(ids, int32(id))
		}
		req.Assign(topic, partition, ids)
	}
	resp, err := adm.AlterPartitionAssignments(ctx, req)
	if err == nil {
		err = resp.Error()
	}
	if replicas == "" {
		return done(io, err, "cancelled the reassignment of %s-%d", topic, partition)
	}
	return done(io, err, "reassigning %s-%d to replicas %s", topic, partition, replicas)
}

// listReassignments prints the reassignments under way.
func listReassignments(ctx context.Context, adm *adminClient, topics []string, io streams) error {
	var set kadm.TopicsSet
	if len(topics) > 0 {
		topicsMeta, err := adm.ListTopics(ctx, topics...)
		if err != nil {
			return err
		}
		set = topicsMeta.TopicsSet()
	}
	resp, err := adm.ListPartitionReassignments(ctx, set)
	if err != nil {
		return err
	}
	sorted := resp.Sorted()
	if len(sorted) == 0 {
		fmt.Fprintln(io.out, "no reassignment under way")
	}
	for _, r := range sorted {
		fmt.Fprintf(io.out, "%s-%d\treplicas %v\tadding %v\tremoving %v\n", r.Topic, r.Partition, r.Replicas,
			r.AddingReplicas, r.RemovingReplicas)
	}
	return nil
}

// electLeaders moves leadership back to preferred replicas: of every
// partition, of a topic's, or of one partition.
func electLeaders(ctx context.Context, adm *adminClient, topics []string, partition int32, io streams) error {
	var set kadm.TopicsSet
	if len(topics) > 0 {
		set = kadm.TopicsSet{}
		if partition >= 0 {
			set.Add(topics[0], partition)
		} else {
			topicsMeta, err := adm.ListTopics(ctx, topics...)
			if err != nil {
				return err
			}
			set = topicsMeta.TopicsSet()
		}
	}
	results, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, set)
	if err != nil {
		return err
	}
	var all []kadm.ElectLeadersResult
	for _, partitions := range results {
		for _, r := range partitions {
			all = append(all, r)
		}
	}
	slices.SortFunc(all, func(a, b kadm.ElectLeadersResult) int {
		return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	var failed error
	for _, r := range all {
		switch {
		case r.Err == nil:
			fmt.Fprintf(io.out, "%s-%d\tpreferred leader elected\n", r.Topic, r.Partition)
		case errors.Is(r.Err, kerr.ElectionNotNeeded):
			fmt.Fprintf(io.out, "%s-%d\talready led by its preferred replica\n", r.Topic, r.Partition)
		default:
			fmt.Fprintf(io.out, "%s-%d\t%v\n", r.Topic, r.Partition, r.Err)
			failed = errors.Join(failed, fmt.Errorf("%s-%d: %w", r.Topic, r.Partition, r.Err))
		}
	}
	return failed
}

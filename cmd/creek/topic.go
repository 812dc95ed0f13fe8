package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicCommand runs creek topic create|list|describe|delete|alter.
func topicCommand(ctx context.Context, args []string, io streams) error {
	var partitions, replication *int
	var assignment *string
	configs, remove := keyValues{}, list{}
	sub, names, adm, err := adminSubcommand("topic", "create|list|describe|delete|alter [NAME] [flags]", args, io,
		func(fs *flag.FlagSet) {
			partitions = fs.Int("partitions", -1, "create: partition count (-1: the broker's default)")
			replication = fs.Int("replication-factor", -1, "create: replicas per partition (-1: the broker's default)")
			assignment = fs.String("replica-assignment", "", "create: replicas by hand, as kafka-topics takes them: "+
				"node IDs, colon-separated, for each partition, comma-separated (1:2,2:3 is 2 partitions of 2 replicas)")
			fs.Var(configs, "config", "create, alter: a topic config KEY=VALUE (repeatable)")
			fs.Var(&remove, "delete-config", "alter: a topic config to reset to its default (repeatable)")
		})
	if err != nil {
		return err
	}
	defer adm.Close()
	switch sub {
	case "list":
		return listTopics(ctx, adm, io)
	case "create", "describe", "delete", "alter":
		if len(names) != 1 {
			fmt.Fprintf(io.err, "usage: creek topic %s NAME\n", sub)
			return errUsage
		}
	default:
		fmt.Fprintf(io.err, "creek topic: unknown subcommand %q\n", sub)
		return errUsage
	}
	name := names[0]
	switch sub {
	case "create":
		set := map[string]*string{}
		for k, v := range configs {
			set[k] = &v
		}
		if *assignment != "" {
			if *partitions != -1 || *replication != -1 {
				fmt.Fprintln(io.err, "creek topic create: --replica-assignment sets the partitions and replication factor")
				return errUsage
			}
			return done(io, createAssigned(ctx, adm, name, *assignment, set), "created topic %s", name)
		}
		resp, err := adm.CreateTopic(ctx, int32(*partitions), int16(*replication), set, name)
		return done(io, errors.Join(err, resp.Err), "created topic %s", name)
	case "delete":
		resp, err := adm.DeleteTopics(ctx, name)
		return done(io, errors.Join(err, resp.Error()), "deleted topic %s", name)
	case "alter":
		var alter []kadm.AlterConfig
		for k, v := range configs {
			alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
		}
		for _, k := range remove {
			alter = append(alter, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
		}
		resp, err := adm.AlterTopicConfigs(ctx, alter, name)
		for _, r := range resp {
			err = errors.Join(err, r.Err)
		}
		return done(io, err, "altered topic %s", name)
	}
	return describeTopic(ctx, adm, name, io)
}

// createAssigned creates a topic with its replicas placed by hand, in
// kafka-topics' --replica-assignment format.
func createAssigned(ctx context.Context, adm *adminClient, name, assignment string, configs map[string]*string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, -1, -1
	for i, partition := range strings.Split(assignment, ",") {
		ra := kmsg.CreateTopicsRequestTopicReplicaAssignment{Partition: int32(i)}
		for _, s := range strings.Split(partition, ":") {
			id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
			if err != nil {
				return fmt.Errorf("--replica-assignment %q: %w", assignment, err)
			}
			ra.Replicas = append(ra.Replicas, int32(id))
		}
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	}
	for k, v := range configs {
		rt.Configs = append(rt.Configs, kmsg.CreateTopicsRequestTopicConfig{Name: k, Value: v})
	}
	req.Topics = []kmsg.CreateTopicsRequestTopic{rt}
	resp, err := req.RequestWith(ctx, adm.raw)
	if err != nil {
		return err
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("the broker answered for %d topics", len(resp.Topics))
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		if msg := resp.Topics[0].ErrorMessage; msg != nil {
			return fmt.Errorf("%w: %s", err, *msg)
		}
		return err
	}
	return nil
}

func listTopics(ctx context.Context, adm *adminClient, io streams) error {
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return err
	}
	for _, t := range topics.Sorted() {
		fmt.Fprintf(io.out, "%s\t%d partitions\n", t.Topic, len(t.Partitions))
	}
	return nil
}

// describeTopic prints a topic's partitions with their offsets, and the
// configs set on it.
func describeTopic(ctx context.Context, adm *adminClient, name string, io streams) error {
	topics, err := adm.ListTopics(ctx, name)
	if err != nil {
		return err
	}
	t, ok := topics[name]
	if !ok || t.Err != nil {
		return fmt.Errorf("topic %s: %v", name, t.Err)
	}
	starts, err := adm.ListStartOffsets(ctx, name)
	if err != nil {
		return err
	}
	ends, err := adm.ListEndOffsets(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "topic %s, %d partitions\n", name, len(t.Partitions))
	for _, p := range t.Partitions.Sorted() {
		start, _ := starts.Lookup(name, p.Partition)
		end, _ := ends.Lookup(name, p.Partition)
		fmt.Fprintf(io.out, "  partition %d\tleader %d\treplicas %v\tstart %d\tend %d\n",
			p.Partition, p.Leader, p.Replicas, start.Offset, end.Offset)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, name)
	if err != nil || len(configs) == 0 {
		return err
	}
	var lines []string
	for _, c := range configs[0].Configs {
		if c.Value != nil {
			lines = append(lines, fmt.Sprintf("  %s=%s (%s)", c.Key, *c.Value, c.Source))
		}
	}
	sort.Strings(lines)
	fmt.Fprintln(io.out, "configs:")
	for _, l := range lines {
		fmt.Fprintln(io.out, l)
	}
	return nil
}

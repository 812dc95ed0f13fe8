package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
)

// groupCommand runs creek group list|describe|reset-offsets|delete.
func groupCommand(ctx context.Context, args []string, io streams) error {
	var topic, to *string
	sub, names, adm, err := adminSubcommand("group", "list|describe|reset-offsets|delete [GROUP] [flags]", args, io,
		func(fs *flag.FlagSet) {
			topic = fs.String("topic", "", "reset-offsets: the topic whose partitions to reset")
			to = fs.String("to", "", "reset-offsets: earliest, latest, or an offset")
		})
	if err != nil {
		return err
	}
	defer adm.Close()
	if sub == "list" {
		groups, err := adm.ListGroups(ctx)
		if err != nil {
			return err
		}
		for _, g := range groups.Sorted() {
			fmt.Fprintf(io.out, "%s\t%s\n", g.Group, g.State)
		}
		return nil
	}
	if len(names) != 1 {
		fmt.Fprintf(io.err, "usage: creek group %s GROUP\n", sub)
		return errUsage
	}
	group := names[0]
	switch sub {
	case "describe":
		return describeGroup(ctx, adm, group, io)
	case "delete":
		resp, err := adm.DeleteGroups(ctx, group)
		return done(io, errors.Join(err, resp.Error()), "deleted group %s", group)
	case "reset-offsets":
		return resetOffsets(ctx, adm, group, *topic, *to, io)
	}
	fmt.Fprintf(io.err, "creek group: unknown subcommand %q\n", sub)
	return errUsage
}

// describeGroup prints a group's state, members and lag per partition.
func describeGroup(ctx context.Context, adm *adminClient, group string, io streams) error {
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		return err
	}
	g, ok := lags[group]
	if !ok {
		return fmt.Errorf("group %s not found", group)
	}
	if err := g.Error(); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "group %s, state %s, protocol %s, %d members\n", group, g.State, g.Protocol, len(g.Members))
	for _, m := range g.Members {
		fmt.Fprintf(io.out, "  member %s\tclient %s\thost %s\n", m.MemberID, m.ClientID, m.ClientHost)
	}
	fmt.Fprintln(io.out, "  topic\tpartition\tcommitted\tend\tlag\tmember")
	for _, l := range g.Lag.Sorted() {
		member := "-"
		if l.Member != nil {
			member = l.Member.MemberID
		}
		fmt.Fprintf(io.out, "  %s\t%d\t%d\t%d\t%d\t%s\n", l.Topic, l.Partition, l.Commit.At, l.End.Offset, l.Lag, member)
	}
	return nil
}

// resetOffsets commits, for a group without members, the start, the end
// or a given offset of each partition of a topic.
func resetOffsets(ctx context.Context, adm *adminClient, group, topic, to string, io streams) error {
	if topic == "" || to == "" {
		fmt.Fprintln(io.err, "usage: creek group reset-offsets GROUP --topic T --to earliest|latest|OFFSET")
		return errUsage
	}
	var listed kadm.ListedOffsets
	var err error
	switch to {
	case "earliest":
		listed, err = adm.ListStartOffsets(ctx, topic)
	case "latest":
		listed, err = adm.ListEndOffsets(ctx, topic)
	default:
		listed, err = adm.ListEndOffsets(ctx, topic) // for the partitions; the offset replaces the end
		if _, perr := strconv.ParseInt(to, 10, 64); perr != nil {
			return fmt.Errorf("--to %q: want earliest, latest or an offset", to)
		}
	}
	if err != nil {
		return err
	}
	if err := listed.Error(); err != nil {
		return err
	}
	offsets := kadm.Offsets{}
	listed.Each(func(o kadm.ListedOffset) {
		at := o.Offset
		if n, err := strconv.ParseInt(to, 10, 64); err == nil {
			at = n
		}
		offsets.Add(kadm.Offset{Topic: o.Topic, Partition: o.Partition, At: at, LeaderEpoch: -1})
	})
	resp, err := adm.CommitOffsets(ctx, group, offsets)
	return done(io, errors.Join(err, resp.Error()), "reset group %s on %s to %s", group, topic, to)
}

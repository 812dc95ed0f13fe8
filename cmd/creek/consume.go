package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consume prints a topic's records, one per line, as --format says.
func consume(ctx context.Context, args []string, io streams) error {
	fs := newFlags("consume", io)
	conn := connectionFlags(fs)
	from := fs.String("from", "end", "where to start without a commit: beginning, end, an offset, or an RFC 3339 time")
	group := fs.String("group", "", "consume as a member of this group, committing as it goes")
	count := fs.Int("count", 0, "stop after this many records (0: run until interrupted)")
	isolation := fs.String("isolation", "read_uncommitted",
		"read_uncommitted (every record), or read_committed (only committed transactions' records, below the last stable offset)")
	format := fs.String("format", "%v\n", "per record: %t topic, %p partition, %o offset, %k key, %v value, %h headers, %T timestamp (ms)")
	names, err := parseInterspersed(fs, args)
	if err != nil || len(names) != 1 {
		fmt.Fprintln(io.err, "usage: creek consume TOPIC [flags]")
		return errUsage
	}
	start, err := startOffset(*from)
	if err != nil {
		return err
	}
	level, err := isolationLevel(*isolation)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{kgo.ConsumeTopics(names[0]), kgo.ConsumeResetOffset(start), kgo.FetchIsolationLevel(level)}
	if *group != "" {
		opts = append(opts, kgo.ConsumerGroup(*group))
	}
	cl, err := conn.client(opts...)
	if err != nil {
		return err
	}
	defer cl.Close() // a group member commits and leaves
	printed := 0
	for *count == 0 || printed < *count {
		fetches := cl.PollRecords(ctx, *count-printed)
		if ctx.Err() != nil {
			return nil // interrupted: a normal end
		}
		if err := fetches.Err0(); err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		for _, r := range fetches.Records() {
			fmt.Fprint(io.out, formatRecord(*format, r))
			printed++
		}
	}
	if *group != "" {
		return cl.CommitUncommittedOffsets(ctx)
	}
	return nil
}

// startOffset parses --from.
func startOffset(from string) (kgo.Offset, error) {
	switch from {
	case "beginning":
		return kgo.NewOffset().AtStart(), nil
	case "end":
		return kgo.NewOffset().AtEnd(), nil
	}
	if n, err := strconv.ParseInt(from, 10, 64); err == nil {
		return kgo.NewOffset().At(n), nil
	}
	if t, err := time.Parse(time.RFC3339, from); err == nil {
		return kgo.NewOffset().AfterMilli(t.UnixMilli()), nil
	}
	return kgo.Offset{}, fmt.Errorf("--from %q: want beginning, end, an offset or an RFC 3339 time", from)
}

// isolationLevel parses --isolation, Kafka's isolation.level.
func isolationLevel(s string) (kgo.IsolationLevel, error) {
	switch s {
	case "read_uncommitted":
		return kgo.ReadUncommitted(), nil
	case "read_committed":
		return kgo.ReadCommitted(), nil
	}
	return kgo.IsolationLevel{}, fmt.Errorf("--isolation %q: want read_uncommitted or read_committed", s)
}

// formatRecord expands a --format for one record.
func formatRecord(format string, r *kgo.Record) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		switch format[i] {
		case 't':
			b.WriteString(r.Topic)
		case 'p':
			b.WriteString(strconv.Itoa(int(r.Partition)))
		case 'o':
			b.WriteString(strconv.FormatInt(r.Offset, 10))
		case 'k':
			b.Write(r.Key)
		case 'v':
			b.Write(r.Value)
		case 'T':
			b.WriteString(strconv.FormatInt(r.Timestamp.UnixMilli(), 10))
		case 'h':
			for j, h := range r.Headers {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(h.Key + "=" + string(h.Value))
			}
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return strings.ReplaceAll(b.String(), `\n`, "\n")
}

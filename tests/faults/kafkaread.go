package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaRead is every partition of a topic as a fresh consumer read it,
// from the log start to the high watermark.
type KafkaRead struct {
	Records        map[int32][]Record
	HighWatermarks map[int32]int64 // partitions whose high watermark was listed
	LogStarts      map[int32]int64
	// Incomplete holds partitions not read to their high watermark, with
	// the offset the read reached (0 when none was listed).
	Incomplete map[int32]int64
}

// ReadThroughKafka lists each partition's log start and high watermark and
// reads every partition of Topic between them with a fresh consumer made
// with cc, until ctx ends. On error it returns what it had read.
func ReadThroughKafka(ctx context.Context, cc ClientConfig, partitions int) (KafkaRead, error) {
	return ReadTopic(ctx, cc, Topic, partitions, kgo.ReadUncommitted())
}

// ReadTopic is ReadThroughKafka for any topic, at an isolation level. The
// consumer keeps control records so that a read_committed one can tell it
// reached the high watermark past a partition's last transaction marker;
// they are not returned. A read_committed read whose last stable offset
// stays below the high watermark does not finish.
func ReadTopic(ctx context.Context, cc ClientConfig, topic string, partitions int, isolation kgo.IsolationLevel) (KafkaRead, error) {
	read := KafkaRead{Records: map[int32][]Record{}, HighWatermarks: map[int32]int64{}, LogStarts: map[int32]int64{},
		Incomplete: map[int32]int64{}}
	for p := range int32(partitions) {
		read.Incomplete[p] = 0
	}
	admin, err := kgo.NewClient(cc.Opts()...)
	if err != nil {
		return read, err
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	var shard *kadm.ShardErrors // some partitions failed; the others are listed
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil && !errors.As(err, &shard) {
		return read, fmt.Errorf("list the high watermarks: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil && !errors.As(err, &shard) {
		return read, fmt.Errorf("list the log starts: %w", err)
	}
	offsets := map[int32]kgo.Offset{}
	next := map[int32]int64{} // the next offset to read, per partition still being read
	err = nil
	var unlisted []string
	for p := range int32(partitions) {
		end, ok := ends.Lookup(topic, p)
		start, ok2 := starts.Lookup(topic, p)
		if !ok || !ok2 || end.Err != nil || start.Err != nil {
			unlisted = append(unlisted, fmt.Sprintf("partition %d: %v %v", p, end.Err, start.Err))
			continue
		}
		read.HighWatermarks[p], read.LogStarts[p] = end.Offset, start.Offset
		read.Records[p] = nil
		if end.Offset > start.Offset {
			offsets[p] = kgo.NewOffset().At(start.Offset)
			next[p] = start.Offset
			read.Incomplete[p] = start.Offset
		} else {
			delete(read.Incomplete, p)
		}
	}
	if len(unlisted) > 0 {
		err = fmt.Errorf("list offsets: %v", unlisted)
	}
	if len(next) == 0 {
		return read, err
	}
	consumer, cerr := kgo.NewClient(cc.Opts(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(isolation), kgo.KeepControlRecords())...)
	if cerr != nil {
		return read, cerr
	}
	defer consumer.Close()
	for len(next) > 0 {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			for p, n := range next {
				read.Incomplete[p] = n
			}
			return read, errors.Join(err, fmt.Errorf("read through Kafka: %d partitions unfinished, e.g. %v: %w", len(next), describeNext(next, read.HighWatermarks), ctx.Err()))
		}
		fetches.EachRecord(func(r *kgo.Record) {
			p := r.Partition
			if r.Offset < read.HighWatermarks[p] && !r.Attrs.IsControl() {
				read.Records[p] = append(read.Records[p], Record{Offset: r.Offset, Value: string(r.Value)})
			}
			if n, ok := next[p]; ok && r.Offset >= n {
				next[p] = r.Offset + 1
			}
			if n, ok := next[p]; ok && n >= read.HighWatermarks[p] {
				delete(next, p)
				delete(read.Incomplete, p)
			}
		})
	}
	return read, err
}

// describeNext names one unfinished partition and how far it got.
func describeNext(next, hw map[int32]int64) string {
	for _, p := range sortedKeys(next) {
		return fmt.Sprintf("partition %d at %d of %d", p, next[p], hw[p])
	}
	return ""
}

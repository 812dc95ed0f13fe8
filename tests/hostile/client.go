package hostile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// NewClient is a franz-go client of the node at addr that produces
// uncompressed batches (so that raw reads can decode them) to the
// partition each record names, with acks=all.
func NewClient(addr string, opts ...kgo.Opt) (*kgo.Client, error) {
	base := []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RetryTimeout(20 * time.Second),
	}
	return kgo.NewClient(append(base, opts...)...)
}

// ProduceValues produces one record per value to topic's partition with
// a new client and returns their offsets, in order.
func ProduceValues(ctx context.Context, addr, topic string, partition int32, values [][]byte, opts ...kgo.Opt) ([]int64, error) {
	cl, err := NewClient(addr, opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Partition: partition, Value: v}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return nil, err
	}
	offsets := make([]int64, len(recs))
	for i, r := range recs {
		offsets[i] = r.Offset
	}
	return offsets, nil
}

// ConsumeOptions says how Consume reads.
type ConsumeOptions struct {
	// From is the offset to start at.
	From int64
	// KeepRetryableErrors passes franz-go's KeepRetryableFetchErrors, so
	// that errors it would retry quietly (CORRUPT_MESSAGE among them)
	// reach OnError.
	KeepRetryableErrors bool
	// OnRecord is called for each record; true stops the consumer.
	OnRecord func(*kgo.Record) bool
	// OnError is called for each fetch error; true stops the consumer.
	OnError func(error) bool
}

// ErrConsumeTimeout is Consume's error when timeout passed before a
// callback stopped it.
var ErrConsumeTimeout = errors.New("consumer not done before its deadline")

// Consume reads topic's partition with a new franz-go consumer, as opts
// says, until a callback stops it (nil), timeout passes
// (ErrConsumeTimeout) or ctx ends.
func Consume(ctx context.Context, addr, topic string, partition int32, timeout time.Duration, opts ConsumeOptions) error {
	kopts := []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {partition: kgo.NewOffset().At(opts.From)},
	})}
	if opts.KeepRetryableErrors {
		kopts = append(kopts, kgo.KeepRetryableFetchErrors())
	}
	cl, err := NewClient(addr, kopts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return ErrConsumeTimeout
			}
			return ctx.Err()
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) {
				continue
			}
			if opts.OnError != nil && opts.OnError(fmt.Errorf("%s-%d: %w", fe.Topic, fe.Partition, fe.Err)) {
				return nil
			}
		}
		stop := false
		fetches.EachRecord(func(r *kgo.Record) {
			if !stop && opts.OnRecord != nil && opts.OnRecord(r) {
				stop = true
			}
		})
		if stop {
			return nil
		}
	}
}

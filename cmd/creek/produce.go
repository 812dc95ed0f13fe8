package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produce sends one record per line of standard input to a topic.
func produce(ctx context.Context, args []string, io streams) error {
	fs := newFlags("produce", io)
	conn := connectionFlags(fs)
	keySep := fs.String("key-separator", "", "split each line into KEY SEP VALUE at the first SEP")
	partition := fs.Int("partition", -1, "send every record to this partition (-1: by key, Kafka's partitioner)")
	headers := keyValues{}
	fs.Var(headers, "header", "a header KEY=VALUE on every record (repeatable)")
	names, err := parseInterspersed(fs, args)
	if err != nil || len(names) != 1 {
		fmt.Fprintln(io.err, "usage: creek produce TOPIC [flags] < lines")
		return errUsage
	}
	opts := []kgo.Opt{kgo.DefaultProduceTopic(names[0])}
	if *partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	cl, err := conn.client(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	// The idempotent producer's ID first, so that a refusal of it
	// (CLUSTER_AUTHORIZATION_FAILED, without WRITE on any topic) is an
	// error here, before any input is read. Left to the first send,
	// franz-go (v1.22.3) can miss the record it should fail with it: it
	// fails the records of the partitions it has stored, and the first
	// record's partition is stored only once that record is buffered, so
	// a refusal in between leaves it buffered and Flush waits for ever
	// (TestACLCommands, about one run in 300 under -race and load).
	if _, _, err := cl.ProducerID(ctx); err != nil {
		return err
	}
	var recordHeaders []kgo.RecordHeader
	for k, v := range headers {
		recordHeaders = append(recordHeaders, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	var failed atomic.Value
	sent := 0
	scanner := bufio.NewScanner(io.in)
	scanner.Buffer(make([]byte, 64<<10), 16<<20)
	for scanner.Scan() {
		rec := &kgo.Record{Value: []byte(scanner.Text()), Headers: recordHeaders, Partition: int32(*partition)}
		if *keySep != "" {
			if k, v, ok := strings.Cut(scanner.Text(), *keySep); ok {
				rec.Key, rec.Value = []byte(k), []byte(v)
			}
		}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, err)
			}
		})
		sent++
	}
	if err := scanner.Err(); err != nil {
		return err
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	fmt.Fprintf(io.err, "produced %d records to %s\n", sent, names[0])
	return nil
}

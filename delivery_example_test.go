package creek_test

import (
	"context"
	"fmt"
	"log"

	"github.com/creekmq/creek"
)

// deliveryNode opens a memory node with a topic "logins" holding three
// login requests.
func deliveryNode() *creek.Node {
	ctx := context.Background()
	node, err := creek.Open(creek.Config{OffsetsTopicPartitions: 1})
	if err != nil {
		log.Fatal(err)
	}
	if err := node.CreateTopic(ctx, "logins", creek.TopicSpec{}); err != nil {
		log.Fatal(err)
	}
	producer, err := node.NewProducer(creek.ProducerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()
	for _, user := range []string{"ann", "bob", "cid"} {
		if err := producer.Produce(ctx, &creek.Record{Topic: "logins", Value: []byte(user)}); err != nil {
			log.Fatal(err)
		}
	}
	return node
}

// consumeOnce polls once and handles each record; commitFirst decides
// whether the group's offset is committed before or after handling. handle
// fails on "bob", as a process that dies mid-batch.
func consumeOnce(node *creek.Node, commitFirst bool) {
	ctx := context.Background()
	c, err := node.NewConsumer(creek.ConsumerConfig{Group: "login-server", Reset: creek.ResetEarliest, DisableAutoCommit: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	tp := creek.TopicPartition{Topic: "logins", Partition: 0}
	c.Assign(tp)
	if lag, err := c.Lag(ctx, tp); err != nil || lag == 0 {
		return // nothing left to handle (Poll would wait for new records)
	}
	polled, err := c.Poll(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if commitFirst {
		if err := c.Commit(ctx); err != nil {
			log.Fatal(err)
		}
	}
	for _, pr := range polled {
		for _, r := range pr.Records {
			if string(r.Value) == "bob" && !handledBob {
				handledBob = true
				fmt.Println("crash while handling", string(r.Value))
				return // no commit: the process is gone
			}
			fmt.Println("handled", string(r.Value))
		}
	}
	if !commitFirst {
		if err := c.Commit(ctx); err != nil {
			log.Fatal(err)
		}
	}
}

var handledBob bool

// At-most-once: commit, then handle. A crash after the commit loses the
// records not yet handled; none is ever handled twice.
func Example_atMostOnce() {
	node := deliveryNode()
	defer node.Close()
	handledBob = false
	consumeOnce(node, true) // crashes on bob, after committing all three
	consumeOnce(node, true) // the restart starts after the commit: nothing
	// Output:
	// handled ann
	// crash while handling bob
}

// At-least-once, the default: handle, then commit. A crash before the
// commit hands the records out again; none is ever lost.
func Example_atLeastOnce() {
	node := deliveryNode()
	defer node.Close()
	handledBob = false
	consumeOnce(node, false) // crashes on bob, before committing
	consumeOnce(node, false) // the restart handles ann again, then the rest
	// Output:
	// handled ann
	// crash while handling bob
	// handled ann
	// handled bob
	// handled cid
}

// Exactly-once producing: an idempotent producer's retried batch is stored
// once. Here the same batch reaches the partition twice, as after a lost
// acknowledgement, and gets the same offset both times.
func Example_exactlyOnceProducing() {
	ctx := context.Background()
	node, err := creek.Open(creek.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()
	if err := node.CreateTopic(ctx, "payments", creek.TopicSpec{}); err != nil {
		log.Fatal(err)
	}
	id, epoch, err := node.InitProducerID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	batch := idempotentBatchFor(id, epoch)
	first, _ := node.ProduceBatch(ctx, "payments", 0, append([]byte(nil), batch...))
	retry, _ := node.ProduceBatch(ctx, "payments", 0, append([]byte(nil), batch...))
	info, _ := node.DescribeTopic("payments")
	fmt.Println("offsets", first, retry, "- records stored:", info.Partitions[0].HighWatermark)
	// Output: offsets 0 0 - records stored: 1
}

// Exactly-once from consuming through producing: the records a group
// member read are handled into another topic, and the member's offsets
// sent, in one transaction. A crash before the commit (here, an abort)
// leaves neither the output nor the offsets; the restart handles the
// records again, and read_committed readers see each output once.
func Example_exactlyOnce() {
	ctx := context.Background()
	node := deliveryNode()
	defer node.Close()
	if err := node.CreateTopic(ctx, "sessions", creek.TopicSpec{}); err != nil {
		log.Fatal(err)
	}
	process := func(commit bool) {
		c, err := node.NewConsumer(creek.ConsumerConfig{Group: "login-server", Reset: creek.ResetEarliest,
			DisableAutoCommit: true, Isolation: creek.ReadCommitted})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		c.Assign(creek.TopicPartition{Topic: "logins", Partition: 0})
		p, err := node.NewProducer(creek.ProducerConfig{TransactionalID: "login-server-0"})
		if err != nil {
			log.Fatal(err)
		}
		defer p.Close()
		polled, err := c.Poll(ctx)
		if err != nil {
			log.Fatal(err)
		}
		if err := p.BeginTransaction(); err != nil {
			log.Fatal(err)
		}
		for _, pr := range polled {
			for _, r := range pr.Records {
				if err := p.Produce(ctx, &creek.Record{Topic: "sessions", Value: append([]byte("session for "), r.Value...)}); err != nil {
					log.Fatal(err)
				}
			}
		}
		if err := p.SendOffsets(ctx, c); err != nil {
			log.Fatal(err)
		}
		end := p.AbortTransaction // the process dies before it commits
		if commit {
			end = p.CommitTransaction
		}
		if err := end(ctx); err != nil {
			log.Fatal(err)
		}
	}
	process(false)
	process(true)

	reader, err := node.NewConsumer(creek.ConsumerConfig{Reset: creek.ResetEarliest, Isolation: creek.ReadCommitted})
	if err != nil {
		log.Fatal(err)
	}
	defer reader.Close()
	reader.Assign(creek.TopicPartition{Topic: "sessions", Partition: 0})
	polled, err := reader.Poll(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, pr := range polled {
		for _, r := range pr.Records {
			fmt.Println(string(r.Value))
		}
	}
	// Output:
	// session for ann
	// session for bob
	// session for cid
}

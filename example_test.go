package creek_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/creekmq/creek"
)

// A node in memory: create a topic, append records to a log of your own,
// and read them back. With Config.Dir set, the same code runs on disk.
func ExampleOpen() {
	ctx := context.Background()
	node, err := creek.Open(creek.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()

	err = node.CreateTopic(ctx, "logins", creek.TopicSpec{
		Partitions: 3,
		Configs:    map[string]string{creek.ConfigRetentionMs: "86400000"},
	})
	if err != nil {
		log.Fatal(err)
	}
	info, _ := node.DescribeTopic("logins")
	fmt.Println(info.Name, len(info.Partitions), "partitions, retention.ms", info.Configs[creek.ConfigRetentionMs])
	// Output: logins 3 partitions, retention.ms 86400000
}

// The commit log on its own, as a write-ahead log.
func ExampleOpenLog() {
	dir, cleanup := tempDir()
	defer cleanup()
	l, err := creek.OpenLog(dir, creek.LogConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	at := time.UnixMilli(1_700_000_000_000)
	first, err := l.AppendRecords(
		creek.Record{Key: []byte("user-1"), Value: []byte("signed in"), Timestamp: at},
		creek.Record{Key: []byte("user-2"), Value: []byte("signed out"), Timestamp: at},
	)
	if err != nil {
		log.Fatal(err)
	}
	records, err := l.ReadRecords(first, 1<<20)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range records {
		fmt.Printf("%d %s %s\n", r.Offset, r.Key, r.Value)
	}
	// Output:
	// 0 user-1 signed in
	// 1 user-2 signed out
}

// Reading records one at a time, keeping none: PollEach hands each
// record to a function where it is read, and makes nothing for it.
func ExampleConsumer_PollEach() {
	ctx := context.Background()
	node, err := creek.Open(creek.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()
	if err := node.CreateTopic(ctx, "logins", creek.TopicSpec{}); err != nil {
		log.Fatal(err)
	}
	producer, err := node.NewProducer(creek.ProducerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()
	for _, user := range []string{"user-1", "user-2"} {
		if err := producer.Produce(ctx, &creek.Record{Topic: "logins", Key: []byte(user), Value: []byte("signed in")}); err != nil {
			log.Fatal(err)
		}
	}

	consumer, err := node.NewConsumer(creek.ConsumerConfig{Reset: creek.ResetEarliest})
	if err != nil {
		log.Fatal(err)
	}
	defer consumer.Close()
	consumer.Subscribe("logins")
	signedIn := map[string]int{}
	for len(signedIn) < 2 {
		_, err := consumer.PollEach(ctx, func(r *creek.Record) error {
			signedIn[string(r.Key)]++ // string(r.Key) copies: r is valid only until the function returns
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(signedIn)
	// Output: map[user-1:1 user-2:1]
}

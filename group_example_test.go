package creek_test

import (
	"context"
	"fmt"
	"log"
	"slices"

	"github.com/creekmq/creek"
)

// A consumer group: members that subscribe with the same Group share the
// topic's partitions; the callbacks say which are theirs. Start more
// members, and the group moves partitions to them; close one, and the
// others take its partitions over from its last commit.
func Example_consumerGroup() {
	ctx := context.Background()
	node, err := creek.Open(creek.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()
	if err := node.CreateTopic(ctx, "logins", creek.TopicSpec{Partitions: 2}); err != nil {
		log.Fatal(err)
	}
	producer, err := node.NewProducer(creek.ProducerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()
	err = producer.Produce(ctx,
		&creek.Record{Topic: "logins", Partition: 0, Value: []byte("alice")},
		&creek.Record{Topic: "logins", Partition: 1, Value: []byte("bob")})
	if err != nil {
		log.Fatal(err)
	}

	consumer, err := node.NewConsumer(creek.ConsumerConfig{
		Group: "login-server",
		Reset: creek.ResetEarliest,
		OnAssigned: func(partitions []creek.TopicPartition) {
			fmt.Println("assigned", partitions)
		},
		OnRevoked: func(partitions []creek.TopicPartition) {
			fmt.Println("revoked", partitions)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	consumer.Subscribe("logins")
	var users []string
	for len(users) < 2 {
		polled, err := consumer.Poll(ctx)
		if err != nil {
			log.Fatal(err)
		}
		for _, pr := range polled {
			for _, r := range pr.Records {
				users = append(users, string(r.Value))
			}
		}
	}
	slices.Sort(users)
	fmt.Println(users)
	if err := consumer.Close(); err != nil { // commits, gives the partitions up, leaves
		log.Fatal(err)
	}
	group, _ := node.DescribeGroup(ctx, "login-server")
	fmt.Println(group.State, "with lag", group.Offsets[0].Lag, group.Offsets[1].Lag)
	// Output:
	// assigned [{logins 0} {logins 1}]
	// [alice bob]
	// revoked [{logins 0} {logins 1}]
	// Empty with lag 0 0
}

package inmemory

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/creektest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLoginFlow sends login requests through a creek node in memory and
// waits for the replies: the whole flow, in microseconds, with no ports.
func TestLoginFlow(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	node := creektest.Node(t, creek.Config{OffsetsTopicPartitions: 1})
	for _, topic := range []string{RequestsTopic, RepliesTopic} {
		if err := node.CreateTopic(ctx, topic, creek.TopicSpec{Partitions: 3}); err != nil {
			t.Fatal(err)
		}
	}
	service, err := NewService(node, map[string]string{"test@email.com": "secret"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("service: %v", err)
		}
		if err := service.Close(); err != nil {
			t.Error(err)
		}
	})

	client, err := node.NewProducer(creek.ProducerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	want := map[string]string{"req-1": "ok", "req-2": "denied", "req-3": "denied"}
	requests := map[string]string{
		"req-1": "test@email.com secret",
		"req-2": "test@email.com wrong",
		"req-3": "nobody@email.com secret",
	}
	for id, body := range requests {
		if err := client.Produce(ctx, &creek.Record{Topic: RequestsTopic, Key: []byte(id), Value: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}

	replies, err := node.NewConsumer(creek.ConsumerConfig{Reset: creek.ResetEarliest})
	if err != nil {
		t.Fatal(err)
	}
	defer replies.Close()
	replies.Subscribe(RepliesTopic)
	got := map[string]string{}
	for len(got) < len(want) {
		polled, err := replies.Poll(ctx) // wakes when a reply is appended
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range polled {
			for _, r := range pr.Records {
				got[string(r.Key)] = string(r.Value)
			}
		}
	}
	for id, answer := range want {
		if got[id] != answer {
			t.Errorf("%s: got %q, want %q", id, got[id], answer)
		}
	}
}

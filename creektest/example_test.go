package creektest_test

import (
	"testing"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/creektest"
)

// A test opens a node of its own, in memory; it is closed when the test
// ends. (This example compiles but does not run: it has no test's t.)
func ExampleNode() {
	var t *testing.T // in func TestXxx(t *testing.T), the test's own
	node := creektest.Node(t, creek.Config{})
	if err := node.CreateTopic(t.Context(), "logins", creek.TopicSpec{Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	producer, err := node.NewProducer(creek.ProducerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	if err := producer.Produce(t.Context(), &creek.Record{Topic: "logins", Value: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
}

// A test opens three nodes in one cluster and creates a topic replicated
// on all of them; the cluster is ready when Cluster returns. (This example
// compiles but does not run: it has no test's t.)
func ExampleCluster() {
	var t *testing.T // in func TestXxx(t *testing.T), the test's own
	nodes := creektest.Cluster(t, 3, creek.Config{})
	err := nodes[0].CreateTopic(t.Context(), "orders", creek.TopicSpec{Partitions: 1, ReplicationFactor: 3,
		Configs: map[string]string{creek.ConfigMinInsyncReplicas: "2"}})
	if err != nil {
		t.Fatal(err)
	}
	// Kafka clients reach the cluster through any node's listener.
	t.Log("bootstrap servers:", nodes[0].Addr(), nodes[1].Addr(), nodes[2].Addr())
}

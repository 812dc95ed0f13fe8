package kafka_test

import (
	"encoding/binary"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/internal/kafka"
)

// TestCloseDoesNotWaitForAClientThatStopsReading: a client pipelines
// fetches of megabytes and reads none of the answers, so the node's write
// blocks; Close still returns, as the writes' deadline ends them. Before,
// the listener set no write deadline and Close waited for ever.
func TestCloseDoesNotWaitForAClientThatStopsReading(t *testing.T) {
	n, err := creek.Open(creek.Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	produceBig(t, n, 8, 900<<10)

	w := dial(t, n.Addr())
	for i := range 64 { // about 460 MB of answers, far more than the socket buffers hold
		w.send(fetchBig(64<<20), 11, int32(i))
	}
	closed := make(chan error)
	go func() { closed <- n.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(time.Minute): // a bound for a hang, not a wait for something to happen
		t.Fatal("Close waited for a client that reads nothing")
	}
}

// TestFetchIsCappedByTheBroker: a Fetch asking for 2 GiB gets at most
// FetchMaxBytes of records (whole batches, so one more batch at most).
func TestFetchIsCappedByTheBroker(t *testing.T) {
	n := openNode(t, creek.Config{FetchMaxBytes: 1 << 20})
	produceBig(t, n, 10, 300<<10)

	w := dial(t, n.Addr())
	req := fetchBig(1<<31 - 1)
	w.send(req, 11, 1)
	resp := kmsg.NewPtrFetchResponse()
	w.receive(resp, 11)
	got := len(resp.Topics[0].Partitions[0].RecordBatches)
	require.Positive(t, got)
	require.LessOrEqual(t, got, 1<<20+400<<10, "at most the cap and one batch")
}

// fetchBig returns a Fetch of partition 0 of "big" from its start, asking
// for up to maxBytes, without waiting.
func fetchBig(maxBytes int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.MaxBytes, req.MaxWaitMillis = maxBytes, 0
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "big"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = maxBytes
	rt.Partitions = []kmsg.FetchRequestTopicPartition{rp}
	req.Topics = []kmsg.FetchRequestTopic{rt}
	return req
}

// produceBig creates the topic "big" and writes count records of size
// bytes to it, one batch each.
func produceBig(t *testing.T, n *creek.Node, count, size int) {
	t.Helper()
	require.NoError(t, n.CreateTopic(t.Context(), "big", creek.TopicSpec{}))
	p, err := n.NewProducer(creek.ProducerConfig{})
	require.NoError(t, err)
	value := make([]byte, size)
	for range count {
		require.NoError(t, p.Produce(t.Context(), &creek.Record{Topic: "big", Value: value}))
	}
	require.NoError(t, p.Close())
}

// TestPartialRequestIsCutOff: a client declares a frame as large as the
// whole budget, sends a little of it and stops; once RequestReadTimeout
// passes the node closes it, and the request another client had waiting
// for the budget is read and answered. Before, the share stayed taken
// until the idle timeout, ten minutes.
func TestPartialRequestIsCutOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := kafka.Serve(nil, kafka.Config{QueuedMaxRequestBytes: 1 << 20, RequestReadTimeout: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)}, kafka.Listener{Listener: ln})
	defer func() {
		require.NoError(t, s.Close())
		goleak.VerifyNone(t)
	}()
	stalled := dial(t, s.Addr())
	frame := binary.BigEndian.AppendUint32(nil, 1<<20) // a Produce frame, all of the budget
	frame = append(frame, 0, 0, 0, 9, 0, 0, 0, 1)
	_, err = stalled.nc.Write(frame)
	require.NoError(t, err)

	waiting := dial(t, s.Addr())
	waiting.send(kmsg.NewPtrApiVersionsRequest(), 3, 7)
	assert.Equal(t, int32(7), waiting.receive(kmsg.NewPtrApiVersionsResponse(), 3), "answered once the stalled frame is dropped")
	assert.True(t, stalled.closed(), "the stalled client was cut off")
}

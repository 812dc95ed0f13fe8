package kafka_test

import (
	"bufio"
	"encoding/binary"
	"io"
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

// wire is a raw connection to the listener that writes request frames and
// reads response frames, as a client library would.
type wire struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dial(t *testing.T, addr net.Addr) *wire {
	t.Helper()
	nc, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return &wire{t: t, nc: nc, r: bufio.NewReader(nc)}
}

// send writes one request at a version with a correlation ID.
func (w *wire) send(req kmsg.Request, version int16, correlationID int32) {
	w.t.Helper()
	_, err := w.nc.Write(kafka.RequestFrame(req, version, correlationID))
	require.NoError(w.t, err)
}

// receive reads one response into resp, at version, and returns its
// correlation ID.
func (w *wire) receive(resp kmsg.Response, version int16) int32 {
	w.t.Helper()
	w.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	var size [4]byte
	_, err := io.ReadFull(w.r, size[:])
	require.NoError(w.t, err)
	frame := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err = io.ReadFull(w.r, frame)
	require.NoError(w.t, err)
	resp.SetVersion(version)
	body := frame[4:]
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		body = body[1:] // no tagged fields in our responses' headers
	}
	require.NoError(w.t, resp.ReadFrom(body))
	return int32(binary.BigEndian.Uint32(frame))
}

// closed reports whether the server closed the connection.
func (w *wire) closed() bool {
	w.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := w.r.ReadByte()
	return err == io.EOF
}

func openNode(t *testing.T, cfg creek.Config) *creek.Node {
	t.Helper()
	cfg.Listen, cfg.Logger = "127.0.0.1:0", slog.New(slog.DiscardHandler)
	n, err := creek.Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, n.Close())
		goleak.VerifyNone(t)
	})
	return n
}

func TestAPIVersionsAdvertisesWhatIsServed(t *testing.T) {
	n := openNode(t, creek.Config{})
	w := dial(t, n.Addr())
	w.send(kmsg.NewPtrApiVersionsRequest(), 3, 1)
	resp := kmsg.NewPtrApiVersionsResponse()
	require.Equal(t, int32(1), w.receive(resp, 3))
	require.Zero(t, resp.ErrorCode)
	keys := map[int16]kmsg.ApiVersionsResponseApiKey{}
	for _, k := range resp.ApiKeys {
		keys[k.ApiKey] = k
	}
	assert.Len(t, keys, 45)
	assert.Equal(t, int16(13), keys[int16(kmsg.Produce)].MaxVersion)
	assert.Equal(t, int16(3), keys[int16(kmsg.Produce)].MinVersion)

	w.send(kmsg.NewPtrApiVersionsRequest(), 5, 2) // above what is served
	old := kmsg.NewPtrApiVersionsResponse()
	require.Equal(t, int32(2), w.receive(old, 0))
	assert.Equal(t, int16(35), old.ErrorCode, "UNSUPPORTED_VERSION, at version 0, with the list")
	assert.Len(t, old.ApiKeys, 45)

	w.send(kmsg.NewPtrDescribeDelegationTokenRequest(), 1, 3) // an API not served
	tokens := kmsg.NewPtrDescribeDelegationTokenResponse()
	require.Equal(t, int32(3), w.receive(tokens, 1))
	assert.Equal(t, int16(35), tokens.ErrorCode)
}

// TestPipelinedRequestsAnswerInOrder writes requests back to back, an
// acks=0 produce among them, and reads the answers in order.
func TestPipelinedRequestsAnswerInOrder(t *testing.T) {
	n := openNode(t, creek.Config{})
	require.NoError(t, n.CreateTopic(t.Context(), "t", creek.TopicSpec{}))
	w := dial(t, n.Addr())
	meta := kmsg.NewPtrMetadataRequest()
	w.send(meta, 12, 10)
	fire := kmsg.NewPtrProduceRequest()
	fire.Acks = 0
	fire.Topics = []kmsg.ProduceRequestTopic{{Topic: "t", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: []byte("not a batch")}}}}
	w.send(fire, 9, 11)
	w.send(kmsg.NewPtrApiVersionsRequest(), 3, 12)
	assert.Equal(t, int32(10), w.receive(kmsg.NewPtrMetadataResponse(), 12))
	assert.Equal(t, int32(12), w.receive(kmsg.NewPtrApiVersionsResponse(), 3), "acks=0 gets no response")
}

// TestBadInputClosesOnlyItsConnection: an oversized frame, a negative
// size and a garbled body each close their own connection; another
// connection goes on.
func TestBadInputClosesOnlyItsConnection(t *testing.T) {
	n := openNode(t, creek.Config{MaxRequestBytes: 1 << 10})
	good := dial(t, n.Addr())
	for name, frame := range map[string][]byte{
		"oversized": binary.BigEndian.AppendUint32(nil, 1<<20),
		"negative":  binary.BigEndian.AppendUint32(nil, 0xffffff00),
		"garbled":   append(binary.BigEndian.AppendUint32(nil, 14), 0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff),
	} {
		t.Run(name, func(t *testing.T) {
			bad := dial(t, n.Addr())
			_, err := bad.nc.Write(frame)
			require.NoError(t, err)
			assert.True(t, bad.closed(), "the server closed the connection")
			good.send(kmsg.NewPtrApiVersionsRequest(), 3, 5)
			assert.Equal(t, int32(5), good.receive(kmsg.NewPtrApiVersionsResponse(), 3))
		})
	}
}

func TestIdleConnectionCloses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := kafka.Serve(nil, kafka.Config{IdleTimeout: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)},
		kafka.Listener{Listener: ln})
	defer func() {
		require.NoError(t, s.Close())
		goleak.VerifyNone(t)
	}()
	w := dial(t, s.Addr())
	assert.True(t, w.closed(), "a silent client is disconnected")
}

// TestCloseDoesNotWaitOutLongPoll: Close returns at once even while a
// Fetch may be long-polling for a minute; the fetch, if the listener had
// read it, is answered before the connection closes.
func TestCloseDoesNotWaitOutLongPoll(t *testing.T) {
	cfg := creek.Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)}
	n, err := creek.Open(cfg)
	require.NoError(t, err)
	require.NoError(t, n.CreateTopic(t.Context(), "t", creek.TopicSpec{}))
	w := dial(t, n.Addr())
	fetch := kmsg.NewPtrFetchRequest()
	fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes = 60_000, 1, 1<<20
	fetch.SessionEpoch = -1
	fetch.Topics = []kmsg.FetchRequestTopic{{Topic: "t", Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 1 << 20}}}}
	w.send(fetch, 12, 7)
	start := time.Now()
	require.NoError(t, n.Close())
	assert.Less(t, time.Since(start), 30*time.Second, "Close waited out the long poll")
	if frame, err := readFrameOrEOF(w); err == nil {
		assert.Equal(t, int32(7), int32(binary.BigEndian.Uint32(frame)), "the fetch's own answer")
	}
	goleak.VerifyNone(t)
}

// readFrameOrEOF reads one response frame, or reports the connection's end.
func readFrameOrEOF(w *wire) ([]byte, error) {
	w.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(w.r, size[:]); err != nil {
		return nil, err
	}
	frame := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(w.r, frame)
	return frame, err
}

// TestFetchAndProduceByTopicID: from Fetch v13 and Produce v13 clients
// name topics by ID.
func TestFetchAndProduceByTopicID(t *testing.T) {
	n := openNode(t, creek.Config{})
	require.NoError(t, n.CreateTopic(t.Context(), "t", creek.TopicSpec{}))
	info, err := n.DescribeTopic("t")
	require.NoError(t, err)
	p, err := n.NewProducer(creek.ProducerConfig{})
	require.NoError(t, err)
	require.NoError(t, p.Produce(t.Context(), &creek.Record{Topic: "t", Value: []byte("by id")}))
	require.NoError(t, p.Close())
	w := dial(t, n.Addr())

	fetch := kmsg.NewPtrFetchRequest()
	fetch.MaxBytes, fetch.SessionEpoch = 1<<20, -1
	fetch.Topics = []kmsg.FetchRequestTopic{{TopicID: info.ID, Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 1 << 20}}},
		{TopicID: [16]byte{9}, Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 1 << 20}}}}
	w.send(fetch, 16, 1)
	resp := kmsg.NewPtrFetchResponse()
	require.Equal(t, int32(1), w.receive(resp, 16))
	require.Len(t, resp.Topics, 2)
	assert.Equal(t, info.ID, resp.Topics[0].TopicID)
	assert.Zero(t, resp.Topics[0].Partitions[0].ErrorCode)
	assert.Equal(t, int64(1), resp.Topics[0].Partitions[0].HighWatermark)
	assert.NotEmpty(t, resp.Topics[0].Partitions[0].RecordBatches)
	assert.Equal(t, int16(100), resp.Topics[1].Partitions[0].ErrorCode, "UNKNOWN_TOPIC_ID")

	produce := kmsg.NewPtrProduceRequest()
	produce.Acks = -1
	produce.Topics = []kmsg.ProduceRequestTopic{{TopicID: [16]byte{9}, Partitions: []kmsg.ProduceRequestTopicPartition{{Records: []byte{1}}}}}
	w.send(produce, 13, 2)
	presp := kmsg.NewPtrProduceResponse()
	require.Equal(t, int32(2), w.receive(presp, 13))
	assert.Equal(t, int16(100), presp.Topics[0].Partitions[0].ErrorCode)
}

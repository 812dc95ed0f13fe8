package kafka_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/internal/kafka"
)

// fuzzRSSBound is the peak resident memory a fuzzing process may reach:
// no request may make the node take more.
const fuzzRSSBound = 512 << 20

// FuzzServeRequest sends a request of any API key, version and body to a
// live node, followed by an ApiVersions request on the same connection,
// and checks the node answers that in turn or closes the connection —
// never panics, never hangs the connection for good — and that the
// process stays under fuzzRSSBound. Seeds are a request of every API
// served, at its lowest and highest version; the corpus found by fuzzing
// is kept in testdata/fuzz/FuzzServeRequest. Go discards what fuzzing
// workers print, so with CREEK_FUZZ_CRASH_OUTPUT=PREFIX a worker that dies
// writes its crash to PREFIX.PID.
//
//	go test ./internal/kafka -run '^$' -fuzz FuzzServeRequest -fuzztime 10m
func FuzzServeRequest(f *testing.F) {
	if path := os.Getenv("CREEK_FUZZ_CRASH_OUTPUT"); path != "" { // fuzz workers' own output is not kept
		out, err := os.OpenFile(fmt.Sprintf("%s.%d", path, os.Getpid()), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			f.Fatal(err)
		}
		debug.SetCrashOutput(out, debug.CrashOptions{})
		out.Close()
	}
	n, err := creek.Open(creek.Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
		AutoCreateTopics: true, MaxRequestBytes: 4 << 20, MaxPartitions: 200})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	if err := n.CreateTopic(f.Context(), "t", creek.TopicSpec{Partitions: 2}); err != nil {
		f.Fatal(err)
	}
	p, err := n.NewProducer(creek.ProducerConfig{})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 10 {
		if err := p.Produce(f.Context(), &creek.Record{Topic: "t", Value: []byte("seed " + strconv.Itoa(i))}); err != nil {
			f.Fatal(err)
		}
	}
	p.Close()
	for _, seed := range servedRequests() {
		f.Add(seed.key, seed.version, seed.body)
	}
	addr := n.Addr().String()
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		frame := rawFrame(key, version, 1, body)
		frame = append(frame, kafka.RequestFrame(kmsg.NewPtrApiVersionsRequest(), 3, 2)...)
		if _, err := nc.Write(frame); err != nil {
			return // closed before it read everything: an answer too
		}
		nc.SetReadDeadline(time.Now().Add(10 * time.Second)) // a long-polling Fetch may wait this long
		r := bufio.NewReader(nc)
		for {
			id, err := readCorrelationID(r)
			if err != nil || id == 2 {
				break // closed, or answered in turn
			}
		}
		if rss := peakRSS(t); rss > fuzzRSSBound {
			t.Fatalf("peak RSS %d MiB passed %d MiB", rss>>20, fuzzRSSBound>>20)
		}
	})
}

type servedRequest struct {
	key, version int16
	body         []byte
}

// servedRequests returns a request body for every API the listener serves,
// at its lowest and highest version, naming topic t where it names one.
func servedRequests() []servedRequest {
	var out []servedRequest
	for key := int16(0); key <= kmsg.MaxKey; key++ {
		req := kmsg.RequestForKey(key)
		if req == nil {
			continue
		}
		nameTopics(req)
		for _, v := range []int16{0, req.MaxVersion()} {
			req.SetVersion(v)
			body := req.AppendTo(nil)
			out = append(out, servedRequest{key, v, body})
		}
	}
	return out
}

// nameTopics fills the usual fields of a request's first topic and
// partition, so that seeds reach past "unknown topic".
func nameTopics(req kmsg.Request) {
	topic := "t"
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		r.Acks = -1
		r.Topics = []kmsg.ProduceRequestTopic{{Topic: topic, Partitions: []kmsg.ProduceRequestTopicPartition{{Records: []byte{}}}}}
	case *kmsg.FetchRequest:
		r.MaxWaitMillis, r.MaxBytes = 10, 1<<20
		r.Topics = []kmsg.FetchRequestTopic{{Topic: topic, Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 1 << 20}}}}
	case *kmsg.MetadataRequest:
		r.Topics = []kmsg.MetadataRequestTopic{{Topic: &topic}}
	case *kmsg.ListOffsetsRequest:
		r.Topics = []kmsg.ListOffsetsRequestTopic{{Topic: topic, Partitions: []kmsg.ListOffsetsRequestTopicPartition{{Timestamp: -1}}}}
	case *kmsg.CreateTopicsRequest:
		r.Topics = []kmsg.CreateTopicsRequestTopic{{Topic: "new", NumPartitions: 1, ReplicationFactor: 1}}
	case *kmsg.DescribeConfigsRequest:
		r.Resources = []kmsg.DescribeConfigsRequestResource{{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: topic}}
	case *kmsg.OffsetCommitRequest:
		r.Group, r.Generation = "g", -1
		r.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Offset: 1}}}}
	case *kmsg.DescribeProducersRequest:
		r.Topics = []kmsg.DescribeProducersRequestTopic{{Topic: topic, Partitions: []int32{0, 1}}}
	case *kmsg.JoinGroupRequest:
		r.Group, r.ProtocolType, r.SessionTimeoutMillis = "g", "consumer", 10_000
		r.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	default:
		nameTxn(req, topic)
	}
}

// nameTxn fills the transaction requests' usual fields, transactional
// ID "tx" of producer 0 at epoch 0, so that seeds reach the coordinator.
func nameTxn(req kmsg.Request, topic string) {
	id := "tx"
	switch r := req.(type) {
	case *kmsg.InitProducerIDRequest:
		r.TransactionalID, r.TransactionTimeoutMillis = &id, 60_000
	case *kmsg.AddPartitionsToTxnRequest:
		r.TransactionalID = id
		r.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: topic, Partitions: []int32{0}}}
		r.Transactions = []kmsg.AddPartitionsToTxnRequestTransaction{{TransactionalID: id,
			Topics: []kmsg.AddPartitionsToTxnRequestTransactionTopic{{Topic: topic, Partitions: []int32{0}}}}}
	case *kmsg.AddOffsetsToTxnRequest:
		r.TransactionalID, r.Group = id, "g"
	case *kmsg.EndTxnRequest:
		r.TransactionalID, r.Commit = id, true
	case *kmsg.TxnOffsetCommitRequest:
		r.TransactionalID, r.Group, r.Generation = id, "g", -1
		r.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: topic,
			Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Offset: 1}}}}
	case *kmsg.WriteTxnMarkersRequest:
		r.Markers = []kmsg.WriteTxnMarkersRequestMarker{{Committed: true,
			Topics: []kmsg.WriteTxnMarkersRequestMarkerTopic{{Topic: topic, Partitions: []int32{0}}}}}
	case *kmsg.DescribeTransactionsRequest:
		r.TransactionalIDs = []string{id}
	}
}

// rawFrame frames a request body of any key and version.
func rawFrame(key, version int16, correlationID int32, body []byte) []byte {
	h := binary.BigEndian.AppendUint16(nil, uint16(key))
	h = binary.BigEndian.AppendUint16(h, uint16(version))
	h = binary.BigEndian.AppendUint32(h, uint32(correlationID))
	h = binary.BigEndian.AppendUint16(h, 4)
	h = append(h, "fuzz"...)
	if req := kmsg.RequestForKey(key); req != nil && version >= 0 && version <= req.MaxVersion() {
		req.SetVersion(version)
		if req.IsFlexible() {
			h = append(h, 0)
		}
	}
	h = append(h, body...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(h))), h...)
}

// readCorrelationID reads one response frame and returns its correlation
// ID.
func readCorrelationID(r *bufio.Reader) (int32, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 {
		return 0, io.ErrUnexpectedEOF
	}
	var id [4]byte
	if _, err := io.ReadFull(r, id[:]); err != nil {
		return 0, err
	}
	_, err := r.Discard(int(n - 4))
	return int32(binary.BigEndian.Uint32(id[:])), err
}

// peakRSS returns this process's peak resident memory (VmHWM).
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if rest, ok := strings.CutPrefix(string(line), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

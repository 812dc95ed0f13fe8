package kafka

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzProducePartitions checks the count taken before decoding against
// the decoder: whenever kmsg decodes a Produce body that producePartitions
// could walk, it must have counted its partitions exactly; and it must
// walk every body as kmsg encodes one (a refused body is one no client
// sends).
func FuzzProducePartitions(f *testing.F) {
	for _, v := range []int16{0, 3, 8, 9, 12, 13} {
		req := kmsg.NewPtrProduceRequest()
		id := "tx"
		req.TransactionID = &id
		req.Acks = -1
		req.Topics = []kmsg.ProduceRequestTopic{
			{Topic: "a", Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: []byte{1, 2}}, {Partition: 1}}},
			{Topic: "b", Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 2, Records: []byte{}}}},
		}
		req.SetVersion(v)
		f.Add(v, req.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, version int16, body []byte) {
		if version < 0 || version > 13 {
			return
		}
		counted, countErr := producePartitions(body, version)
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(version)
		if err := req.ReadFrom(body); err != nil {
			return
		}
		want := 0
		for _, t := range req.Topics {
			want += len(t.Partitions)
		}
		canonical := bytes.Equal(req.AppendTo(nil), body)
		if countErr == nil && counted != want || countErr != nil && canonical {
			t.Fatalf("counted %d (%v); the decoder found %d", counted, countErr, want)
		}
	})
}

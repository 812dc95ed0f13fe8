package kafka

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// requestFrame builds a request frame as a client would send it.
func requestFrame(req kmsg.Request, version int16, correlationID int32) []byte {
	req.SetVersion(version)
	body := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	body = binary.BigEndian.AppendUint16(body, uint16(version))
	body = binary.BigEndian.AppendUint32(body, uint32(correlationID))
	body = binary.BigEndian.AppendUint16(body, 4)
	body = append(body, "fuzz"...)
	if req.IsFlexible() {
		body = append(body, 0)
	}
	body = req.AppendTo(body)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// FuzzFrameAndHeader feeds arbitrary bytes to the listener's framing and
// request parsing: it must never panic, never allocate past the frame
// bound, and a request it parses must encode and parse back the same.
func FuzzFrameAndHeader(f *testing.F) {
	meta := kmsg.NewPtrMetadataRequest()
	topic := "t"
	meta.Topics = []kmsg.MetadataRequestTopic{{Topic: &topic}}
	f.Add(requestFrame(meta, 12, 7))
	f.Add(requestFrame(kmsg.NewPtrApiVersionsRequest(), 3, 1))
	produce := kmsg.NewPtrProduceRequest()
	produce.Acks = -1
	produce.Topics = []kmsg.ProduceRequestTopic{{Topic: "t", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: []byte{1, 2, 3}}}}}
	f.Add(requestFrame(produce, 9, 2))
	f.Add(requestFrame(kmsg.NewPtrJoinGroupRequest(), 9, 3))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	const maxBytes = 1 << 16
	f.Fuzz(func(t *testing.T, b []byte) {
		frame, _, err := frameReader{maxBytes: maxBytes}.read(context.Background(), bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if len(frame) > maxBytes {
			t.Fatalf("frame of %d bytes passed the %d-byte bound", len(frame), maxBytes)
		}
		h, req, _, err := parseRequest(frame, 1<<10)
		if err != nil || req == nil {
			return
		}
		again, req2, _, err := parseRequest(requestFrame(req, h.version, h.correlationID)[4:], 1<<10)
		if err != nil || req2 == nil {
			t.Fatalf("a parsed request did not parse again: %v", err)
		}
		if again.key != h.key || again.version != h.version || again.correlationID != h.correlationID {
			t.Fatalf("header changed: %+v then %+v", h, again)
		}
		if !bytes.Equal(req.AppendTo(nil), req2.AppendTo(nil)) {
			t.Fatal("body changed through a round trip")
		}
	})
}

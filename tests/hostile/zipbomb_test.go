package hostile

import (
	"testing"
	"time"
)

// The zip bomb: one record whose value is bombValue zero bytes.
const bombValue = 1 << 30

// bombMaxMessageBytes is the bomb topic's max.message.bytes: room for the
// compressed batch, so that only what it holds can refuse it.
const bombMaxMessageBytes = "8388608"

// TestCompressionBomb: a batch whose one record is 1 GiB of zeros,
// compressed with gzip (about 1 MB) and then with zstd, sent with the
// codec's attribute to a topic with compression.type=producer, is
// refused; the node's RSS stays under the bound and a consumer of the
// topic is unaffected.
func TestCompressionBomb(t *testing.T) {
	c := startCase(t, caseOptions{TopicConfigs: map[string]string{
		"compression.type":  "producer",
		"max.message.bytes": bombMaxMessageBytes,
	}})
	conn := c.dial()
	for _, codec := range []struct {
		name string
		id   int16
	}{{"gzip", CodecGzip}, {"zstd", CodecZstd}} {
		start := time.Now()
		compressed, err := BombRecords(codec.id, bombValue)
		if err != nil {
			t.Fatalf("%s bomb: %v", codec.name, err)
		}
		b := ValuesBatch([]byte("placeholder"))
		b.Attributes, b.Records = codec.id, compressed
		frame := b.Bytes()
		t.Logf("%s bomb: %d MiB of zeros in a %d-byte batch (compressed in %v)", codec.name, bombValue/MiB, len(frame), time.Since(start).Round(time.Millisecond))
		before := c.latest(conn)
		start = time.Now()
		res, err := Produce(conn, topic, 0, -1, frame, 2*time.Minute)
		if err != nil {
			t.Fatalf("produce the %s bomb: %v", codec.name, err)
		}
		after := c.latest(conn)
		rss, _ := RSS(c.node.PID())
		t.Logf("%s bomb: error code %d %q after %v; log end offset %d -> %d; creek RSS %.1f MiB",
			codec.name, res.ErrorCode, res.ErrorMessage, time.Since(start).Round(time.Millisecond), before, after, float64(rss)/MiB)
		if res.ErrorCode == 0 {
			t.Errorf("the %s bomb (1 GiB of zeros in one record) was accepted at base offset %d", codec.name, res.BaseOffset)
		}
		if err := c.node.Alive(); err != nil {
			t.Fatalf("after the %s bomb: %v", codec.name, err)
		}
	}
	c.afterChecks(peakRSSBound)
}

package batch_test

import (
	"errors"
	"fmt"
	"io"

	"github.com/creekmq/creek/internal/batch"
)

// A producer builds a batch; the leader validates it and assigns its
// offsets without touching the records; a consumer decodes them.
func Example() {
	var b batch.Builder
	b.Reset(batch.BuildOptions{Compression: batch.Zstd})
	b.Add([]byte("user-1"), []byte("logged in"), nil, 1_700_000_000_000)
	b.Add([]byte("user-2"), []byte("logged out"), []batch.RecordHeader{{Key: "trace", Value: []byte("7f")}}, 1_700_000_000_250)
	sent, err := b.Build()
	if err != nil {
		panic(err)
	}

	// The leader.
	h, err := batch.Validate(sent)
	if err != nil {
		panic(err)
	}
	batch.SetBaseOffset(sent, 42)
	batch.SetPartitionLeaderEpoch(sent, 3)
	fmt.Println(h.NumRecords, "records,", h.Compression())

	// A consumer.
	var r batch.Reader
	if err := r.Reset(sent); err != nil {
		panic(err)
	}
	var rec batch.Record
	for r.Next(&rec) == nil {
		fmt.Printf("%d %d %s=%s headers=%d\n", rec.Offset(r.Header()), rec.Timestamp(r.Header()), rec.Key, rec.Value, len(rec.Headers))
	}
	// Output:
	// 2 records, zstd
	// 42 1700000000000 user-1=logged in headers=0
	// 43 1700000000250 user-2=logged out headers=1
}

// Next walks the batches of a segment; a torn tail reads as
// io.ErrUnexpectedEOF, where recovery truncates.
func ExampleNext() {
	one, _ := batch.Build(batch.BuildOptions{}, batch.Record{Value: []byte("a")})
	two, _ := batch.Build(batch.BuildOptions{}, batch.Record{Value: []byte("b")})
	segment := append(append(one, two...), two[:20]...) // a write cut short

	for rest := segment; ; {
		b, next, err := batch.Next(rest)
		switch {
		case err == io.EOF:
			fmt.Println("end")
			return
		case errors.Is(err, io.ErrUnexpectedEOF):
			fmt.Println("torn tail at byte", len(segment)-len(rest))
			return
		case err != nil:
			fmt.Println("corrupt:", err)
			return
		}
		fmt.Println("batch of", len(b), "bytes")
		rest = next
	}
	// Output:
	// batch of 69 bytes
	// batch of 69 bytes
	// torn tail at byte 138
}

// Records iterates over a batch's records; a corrupt one ends the loop with
// an error matching batch.ErrCorrupt.
func ExampleRecords() {
	b, _ := batch.Build(batch.BuildOptions{Compression: batch.LZ4},
		batch.Record{OffsetDelta: 0, Key: []byte("k"), Value: []byte("v1")},
		batch.Record{OffsetDelta: 1, Key: []byte("k"), Value: nil}, // a tombstone
	)
	for rec, err := range batch.Records(b) {
		if err != nil {
			fmt.Println(errors.Is(err, batch.ErrCorrupt))
			break
		}
		fmt.Printf("%s=%q null=%t\n", rec.Key, rec.Value, rec.Value == nil)
	}
	// Output:
	// k="v1" null=false
	// k="" null=true
}

package batch

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"testing"
	"time"
)

// benchRecords returns n records with values of size bytes, text-like so
// that codecs have something to do.
func benchRecords(n, size int) []Record {
	value := bytes.Repeat([]byte("creek stores Kafka batches as sent. "), size/36+1)[:size]
	records := make([]Record, n)
	for i := range records {
		records[i] = Record{
			TimestampDelta: int64(i),
			OffsetDelta:    int32(i),
			Key:            fmt.Appendf(nil, "user-%06d", i),
			Value:          value,
		}
	}
	return records
}

// BenchmarkValidate64KiB validates a 64 KiB batch and reports the ratio to
// the CRC-32C alone, the floor for any validation.
func BenchmarkValidate64KiB(b *testing.B) {
	batch := mustBuild(b, BuildOptions{}, benchRecords(64, 1000)...)
	batch = batch[:len(batch):len(batch)]
	crc := func() time.Duration {
		const n = 2000
		start := time.Now()
		for range n {
			crc32.Checksum(batch[batchAttributes:], castagnoli)
		}
		return time.Since(start) / n
	}()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(batch)), "batch-bytes")
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(crc), "x-crc32c")
}

// BenchmarkBuild builds a batch of 100 records of 100 bytes with a reused
// Builder, per codec.
func BenchmarkBuild(b *testing.B) {
	records := benchRecords(100, 100)
	for _, c := range codecs {
		b.Run(c.String(), func(b *testing.B) {
			var bld Builder
			var size int
			b.ReportAllocs()
			for b.Loop() {
				bld.Reset(BuildOptions{Compression: c})
				for i := range records {
					bld.Add(records[i].Key, records[i].Value, nil, testBase+int64(i))
				}
				out, err := bld.Build()
				if err != nil {
					b.Fatal(err)
				}
				size = len(out)
			}
			b.SetBytes(int64(bld.Size()))
			b.ReportMetric(float64(size), "batch-bytes")
		})
	}
}

// BenchmarkRecords decodes the batch BenchmarkBuild builds, per codec.
func BenchmarkRecords(b *testing.B) {
	records := benchRecords(100, 100)
	for _, c := range codecs {
		b.Run(c.String(), func(b *testing.B) {
			batch := mustBuild(b, BuildOptions{Compression: c}, records...)
			var r Reader
			var rec Record
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Reset(batch); err != nil {
					b.Fatal(err)
				}
				for range records {
					if err := r.Next(&rec); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.SetBytes(int64(len(encodeRecords(records...)) + HeaderSize))
		})
	}
}

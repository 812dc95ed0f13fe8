package main

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	// partitionDir names a partition directory of the topic: faults-<p>.
	partitionDir = regexp.MustCompile(`^` + Topic + `-(\d+)$`)
	// segmentFile names a segment's log file: its base offset, 20 digits.
	segmentFile = regexp.MustCompile(`^\d{20}\.log$`)
)

// straySuffix ends a partition directory a node set aside.
const straySuffix = "-stray"

// batchHeader is the bytes of a RecordBatch v2 before its records.
const batchHeader = 61

// controlBatch is the attribute bit of a control batch.
const controlBatch = 0x20

// castagnoli is the CRC-32C table RecordBatch v2 checksums use.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// NodeFiles is what one node's data directory holds of the topic.
type NodeFiles struct {
	Partitions map[int32][]Record // records of each partition directory, in file order
	StrayDirs  int                // directories set aside as stray
	Tails      []string           // files that ended in a short or garbled batch
}

// ReadNodeFiles reads every faults-<p> partition directory under dir.
func ReadNodeFiles(dir string) (NodeFiles, error) {
	nf := NodeFiles{Partitions: map[int32][]Record{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nf, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if strings.HasPrefix(e.Name(), Topic+"-") && strings.HasSuffix(e.Name(), straySuffix) {
			nf.StrayDirs++
			continue
		}
		m := partitionDir.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		p, _ := strconv.Atoi(m[1])
		recs, tails, err := readPartitionDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nf, err
		}
		nf.Partitions[int32(p)] = recs
		nf.Tails = append(nf.Tails, tails...)
	}
	return nf, nil
}

// segmentNames lists a partition directory's segment log files in offset
// order.
func segmentNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && segmentFile.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// readPartitionDir decodes every segment of a partition directory.
func readPartitionDir(dir string) (recs []Record, tails []string, err error) {
	names, err := segmentNames(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		got, tail := DecodeSegment(data)
		recs = append(recs, got...)
		if tail != "" {
			tails = append(tails, fmt.Sprintf("%s: %s", path, tail))
		}
	}
	return recs, tails, nil
}

// DecodeSegment decodes a segment file's RecordBatch v2 batches, back to
// back, into records, skipping control batches. It stops at a short or
// garbled batch and says why in tail (empty when the data ended cleanly).
// Batches must be uncompressed.
func DecodeSegment(data []byte) (recs []Record, tail string) {
	for pos := 0; pos < len(data); {
		rest := data[pos:]
		if len(rest) < batchHeader {
			return recs, fmt.Sprintf("%d bytes at %d: short batch header", len(rest), pos)
		}
		length := int(int32(binary.BigEndian.Uint32(rest[8:12])))
		size := 12 + length
		if length < batchHeader-12 || size > len(rest) {
			return recs, fmt.Sprintf("batch at %d: length %d, %d bytes left", pos, length, len(rest))
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(rest[:size]); err != nil {
			return recs, fmt.Sprintf("batch at %d: %v", pos, err)
		}
		if b.Magic != 2 {
			return recs, fmt.Sprintf("batch at %d: magic %d", pos, b.Magic)
		}
		if crc32.Checksum(rest[21:size], castagnoli) != uint32(b.CRC) {
			return recs, fmt.Sprintf("batch at %d: CRC mismatch", pos)
		}
		if b.Attributes&0x07 != 0 {
			return recs, fmt.Sprintf("batch at %d: compressed (attributes %#x)", pos, b.Attributes)
		}
		pos += size
		if b.Attributes&controlBatch != 0 {
			continue
		}
		got, err := decodeRecords(b)
		if err != nil {
			return recs, fmt.Sprintf("batch at %d: %v", pos-size, err)
		}
		recs = append(recs, got...)
	}
	return recs, ""
}

// decodeRecords decodes an uncompressed batch's records.
func decodeRecords(b kmsg.RecordBatch) ([]Record, error) {
	src := b.Records
	recs := make([]Record, 0, b.NumRecords)
	for i := int32(0); i < b.NumRecords; i++ {
		length, n := binary.Varint(src)
		if n <= 0 || length < 0 || int(length) > len(src)-n {
			return recs, fmt.Errorf("record %d: bad length", i)
		}
		var r kmsg.Record
		if err := r.ReadFrom(src[:n+int(length)]); err != nil {
			return recs, fmt.Errorf("record %d: %w", i, err)
		}
		src = src[n+int(length):]
		recs = append(recs, Record{Offset: b.FirstOffset + int64(r.OffsetDelta), Value: string(r.Value)})
	}
	return recs, nil
}

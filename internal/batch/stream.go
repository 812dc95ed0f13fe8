package batch

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// streamable reports whether c's records can be checked as they
// decompress. Snappy's cannot, but a snappy block states its decoded size,
// which is checked before anything is allocated for it.
func streamable(c Compression) bool { return c == Gzip || c == LZ4 || c == Zstd }

// recordStream checks the records of a compressed batch as they
// decompress, holding one record at a time rather than them all: a zip
// bomb is refused after limit bytes of output having taken memory for its
// largest record only (one record larger than limit is refused from its
// length). It finds what Reader.Next finds, in the same order.
type recordStream struct {
	in   *bufio.Reader
	buf  []byte // the current record, with its length
	rec  Record
	read int // decompressed bytes taken so far
}

var recordStreams = sync.Pool{New: func() any { return &recordStream{in: bufio.NewReaderSize(nil, 16<<10)} }}

// validateStream checks the records of b, a compressed batch whose header
// Validate accepted as h, within limit decompressed bytes.
func validateStream(b []byte, h Header, limit int) error {
	src, done, err := openDecompressor(h.Compression(), b[HeaderSize:])
	if err != nil {
		return streamCorrupt(0, fmt.Sprintf("%s records do not decompress: %v", h.Compression(), err))
	}
	defer done()
	s := recordStreams.Get().(*recordStream)
	defer func() {
		s.in.Reset(nil)
		s.read, s.rec = 0, Record{}
		if cap(s.buf) > maxPooledBuffer {
			s.buf = nil
		}
		recordStreams.Put(s)
	}()
	s.in.Reset(src)
	lastDelta := int64(-1)
	for i := range h.NumRecords {
		start := s.read
		if err := s.next(limit); err != nil {
			return streamCorrupt(start, fmt.Sprintf("record %d: %v", i, err))
		}
		switch delta := int64(s.rec.OffsetDelta); {
		case delta <= lastDelta:
			return streamCorrupt(start, fmt.Sprintf("record %d: offset delta %d after %d", i, delta, lastDelta))
		case delta > int64(h.LastOffsetDelta):
			return streamCorrupt(start, fmt.Sprintf("record %d: offset delta %d past the last, %d", i, delta, h.LastOffsetDelta))
		default:
			lastDelta = delta
		}
	}
	switch _, err := s.in.ReadByte(); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return streamCorrupt(s.read, fmt.Sprintf("%s records do not decompress: %v", h.Compression(), err))
	}
	return streamCorrupt(s.read, "bytes after the last record")
}

// next reads and decodes one record.
func (s *recordStream) next(limit int) error {
	length, err := binary.ReadVarint(s.in)
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("the records end early")
	case err != nil || length < minRecordSize-1 || length > 1<<31-1:
		return fmt.Errorf("bad record length (%v)", err)
	case s.read+int(length) > limit:
		return fmt.Errorf("records decompress to more than %d bytes", limit)
	}
	s.buf = appendVarint(s.buf[:0], length)
	head := len(s.buf)
	s.buf = grow(s.buf, int(length))[:head+int(length)]
	if _, err := io.ReadFull(s.in, s.buf[head:]); err != nil {
		return fmt.Errorf("the records end inside one (%v)", err)
	}
	s.read += len(s.buf)
	d := decoder{b: s.buf, checkOnly: true}
	if decodeRecord(&d, &s.rec); d.bad != "" {
		return errors.New(d.bad)
	}
	return nil
}

func streamCorrupt(at int, reason string) error {
	return &CorruptError{Offset: HeaderSize, Reason: fmt.Sprintf("at byte %d of the decompressed records: %s", at, reason)}
}

// openDecompressor returns a reader of src decompressed with c, one of
// the streamable codecs, and what gives its state back.
func openDecompressor(c Compression, src []byte) (io.Reader, func(), error) {
	switch c {
	case Gzip:
		p := gzipReaders.Get().(*pooledGzipReader)
		p.src.Reset(src)
		if err := p.r.Reset(&p.src); err != nil {
			p.release()
			return nil, nil, err
		}
		return &p.r, p.release, nil
	case LZ4:
		p := lz4Readers.Get().(*pooledLZ4Reader)
		p.src.Reset(src)
		p.r.Reset(&p.src)
		return p.r, p.release, nil
	case Zstd:
		p := zstdStreams.Get().(*pooledZstdStream)
		p.src.Reset(src)
		if err := p.d.Reset(&p.src); err != nil {
			p.release()
			return nil, nil, err
		}
		return p.d, p.release, nil
	}
	return nil, nil, fmt.Errorf("%s does not stream", c)
}

// pooledZstdStream is a streaming zstd decoder with the bytes.Reader it
// reads. Its memory is bounded by DefaultMaxDecompressedBytes (a frame
// declaring a larger window is refused), and with concurrency 1 it decodes
// on the calling goroutine.
type pooledZstdStream struct {
	d   *zstd.Decoder
	src bytes.Reader
}

var zstdStreams = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(DefaultMaxDecompressedBytes),
		zstd.WithDecoderMaxWindow(DefaultMaxDecompressedBytes),
	)
	if err != nil {
		panic(err) // the options are constant
	}
	return &pooledZstdStream{d: d}
}}

func (p *pooledZstdStream) release() {
	p.src.Reset(nil)
	p.d.Reset(nil)
	zstdStreams.Put(p)
}

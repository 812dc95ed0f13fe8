package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compression is a batch's codec (attribute bits 0-2). Values 5-7 are
// unknown; Validate rejects them.
type Compression int8

// The codecs Kafka defines.
const (
	None   Compression = 0
	Gzip   Compression = 1
	Snappy Compression = 2
	LZ4    Compression = 3
	Zstd   Compression = 4
)

// String returns Kafka's name for c (compression.type).
func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int8(c))
}

// known reports whether c is a codec this package reads and writes.
func (c Compression) known() bool { return c >= None && c <= Zstd }

// checkLevel reports a compression level outside the range Kafka accepts
// for c (compression.<codec>.level). Zero always means the codec's default.
func (c Compression) checkLevel(level int) error {
	lo, hi := 0, 0
	switch c {
	case Gzip:
		lo, hi = 1, 9
	case LZ4:
		lo, hi = 1, 17
	case Zstd:
		lo, hi = -131072, 22
	}
	if level != 0 && (level < lo || level > hi) {
		if lo == hi {
			return fmt.Errorf("batch: %s takes no compression level, got %d", c, level)
		}
		return fmt.Errorf("batch: %s compression level %d outside [%d, %d]", c, level, lo, hi)
	}
	return nil
}

// appendCompressed appends src compressed with c at level (checked by
// checkLevel) to dst.
func (c Compression) appendCompressed(dst, src []byte, level int) ([]byte, error) {
	switch c {
	case None:
		return append(dst, src...), nil
	case Gzip:
		return appendGzip(dst, src, level)
	case Snappy:
		// Raw snappy, as franz-go and librdkafka write it; Kafka's Java
		// client reads it as well as its own xerial framing.
		n := snappy.MaxEncodedLen(len(src))
		if n < 0 {
			return dst, errors.New("batch: records too large for snappy")
		}
		dst = grow(dst, n)
		out := snappy.Encode(dst[len(dst):len(dst)+n], src)
		return dst[:len(dst)+len(out)], nil
	case LZ4:
		return appendLZ4(dst, src, level)
	case Zstd:
		pool := &zstdEncoders[zstd.EncoderLevelFromZstd(zstdLevel(level))]
		enc := pool.Get().(*zstd.Encoder)
		dst = enc.EncodeAll(src, dst)
		pool.Put(enc)
		return dst, nil
	}
	return dst, fmt.Errorf("batch: unknown compression %d", int8(c))
}

// appendDecompressed appends src decompressed with c to dst. If the result
// would pass limit bytes it stops and fails. Errors are plain: the caller
// knows where src sits and wraps them in a *CorruptError.
func (c Compression) appendDecompressed(dst, src []byte, limit int) ([]byte, error) {
	switch c {
	case None:
		if len(src) > limit {
			return dst, errTooLarge
		}
		return append(dst, src...), nil
	case Gzip, LZ4:
		r, done, err := openDecompressor(c, src)
		if err != nil {
			return dst, err
		}
		defer done()
		return readAll(dst, r, len(src), limit)
	case Snappy:
		return appendSnappy(dst, src, limit)
	case Zstd:
		p := zstdDecoders.Get().(*pooledZstdDecoder)
		defer zstdDecoders.Put(p)
		if p.limit != limit {
			// Lets the decoder refuse a frame that declares more than limit
			// before it allocates for it.
			if err := p.d.ResetWithOptions(nil, zstd.WithDecoderMaxMemory(uint64(limit))); err != nil {
				return dst, err
			}
			p.limit = limit
		}
		start := len(dst)
		out, err := p.d.DecodeAll(src, dst)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || len(out)-start > limit {
			return dst, errTooLarge
		}
		if err != nil {
			return dst, err
		}
		return out, nil
	}
	return dst, fmt.Errorf("unknown compression %d", int8(c))
}

// errTooLarge reports records that decompress to more than the limit.
var errTooLarge = errors.New("records decompress to more than the limit")

// readAll appends what r yields to dst, failing once it passes limit bytes.
// srcLen sizes the first allocation.
func readAll(dst []byte, r io.Reader, srcLen, limit int) ([]byte, error) {
	start := len(dst)
	if cap(dst)-len(dst) < 512 {
		dst = grow(dst, min(4*srcLen+512, limit+1))
	}
	for {
		if len(dst) == cap(dst) {
			if len(dst)-start > limit {
				return dst[:start], errTooLarge
			}
			// Double, but never past one byte over limit: enough to tell
			// "exactly limit" from "more".
			got := len(dst) - start
			dst = grow(dst, min(max(got, 512), limit+1-got))
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst[:start], errTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst[:start], err
		}
	}
}

// grow returns dst with room for n more bytes.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	next := make([]byte, len(dst), len(dst)+n)
	copy(next, dst)
	return next
}

// appendWriter is an io.Writer that appends to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// gzip ----------------------------------------------------------------------

// resettableWriter is a compressing writer that can start over on a new
// destination, as gzip.Writer and lz4.Writer can.
type resettableWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// compressTo compresses src with w into out, appending to dst, and returns
// the extended dst. out holds no memory afterwards.
func compressTo(w resettableWriter, out *appendWriter, dst, src []byte) ([]byte, error) {
	out.b = dst
	w.Reset(out)
	_, err := w.Write(src)
	if closeErr := w.Close(); err == nil {
		err = closeErr
	}
	dst = out.b
	out.b = nil
	return dst, err
}

// pooledGzipWriter is a gzip writer with the buffer it writes to.
type pooledGzipWriter struct {
	w   *gzip.Writer
	out appendWriter
}

// gzipWriters holds writers by level: index 0 for the default, 1-9 for
// the levels themselves.
var gzipWriters [10]sync.Pool

func appendGzip(dst, src []byte, level int) ([]byte, error) {
	pool := &gzipWriters[level]
	p, _ := pool.Get().(*pooledGzipWriter)
	if p == nil {
		gzLevel := level
		if gzLevel == 0 {
			gzLevel = gzip.DefaultCompression
		}
		p = &pooledGzipWriter{}
		w, err := gzip.NewWriterLevel(&p.out, gzLevel)
		if err != nil {
			return dst, err
		}
		p.w = w
	}
	dst, err := compressTo(p.w, &p.out, dst, src)
	pool.Put(p)
	return dst, err
}

// pooledGzipReader is a gzip reader with the bytes.Reader it reads.
type pooledGzipReader struct {
	r   gzip.Reader
	src bytes.Reader
}

var gzipReaders = sync.Pool{New: func() any { return new(pooledGzipReader) }}

// release returns p to its pool, holding on to no caller's bytes.
func (p *pooledGzipReader) release() {
	p.src.Reset(nil)
	gzipReaders.Put(p)
}

// snappy --------------------------------------------------------------------

// xerialMagic opens the framing of Xerial's snappy-java, which Kafka's Java
// client writes: the magic, a version and a compatible-version int32, then
// blocks of a big-endian int32 length and a raw snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// xerialHeaderSize is the size of the magic, version and compat fields.
const xerialHeaderSize = 16

// appendSnappy decodes raw snappy or Xerial-framed snappy.
func appendSnappy(dst, src []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		return appendSnappyBlock(dst, src, limit)
	}
	if len(src) < xerialHeaderSize {
		return dst, errors.New("short xerial snappy header")
	}
	start := len(dst)
	for rest := src[xerialHeaderSize:]; len(rest) > 0; {
		if len(rest) < 4 {
			return dst[:start], errors.New("short xerial snappy block length")
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return dst[:start], errors.New("xerial snappy block past the end")
		}
		var err error
		dst, err = appendSnappyBlock(dst, rest[:n], limit-(len(dst)-start))
		if err != nil {
			return dst[:start], err
		}
		rest = rest[n:]
	}
	return dst, nil
}

// appendSnappyBlock decodes one raw snappy block, checking its declared
// size against limit before allocating.
func appendSnappyBlock(dst, src []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return dst, err
	}
	if n > limit {
		return dst, errTooLarge
	}
	dst = grow(dst, n)
	out, err := snappy.Decode(dst[len(dst):len(dst)+n], src)
	if err != nil {
		return dst, err
	}
	if len(out) != n {
		return dst, errors.New("snappy block shorter than declared")
	}
	return dst[:len(dst)+n], nil
}

// lz4 -----------------------------------------------------------------------

// pooledLZ4Writer is an LZ4 frame writer with the buffer it writes to.
type pooledLZ4Writer struct {
	w   *lz4.Writer
	out appendWriter
}

// lz4Writers holds writers by lz4.CompressionLevel index: 0 for Fast, n for
// Level n.
var lz4Writers [10]sync.Pool

func appendLZ4(dst, src []byte, level int) ([]byte, error) {
	level = min(level, 9) // Kafka accepts up to 17; lz4's high levels end at 9
	pool := &lz4Writers[level]
	p, _ := pool.Get().(*pooledLZ4Writer)
	if p == nil {
		p = &pooledLZ4Writer{}
		p.w = lz4.NewWriter(&p.out)
		lzLevel := lz4.Fast
		if level > 0 {
			lzLevel = lz4.CompressionLevel(1 << (8 + level))
		}
		// Kafka's reader decodes 64 KiB independent blocks (the writer's
		// default is 4 MiB); one goroutine, so none outlives the call.
		err := p.w.Apply(
			lz4.BlockSizeOption(lz4.Block64Kb),
			lz4.ChecksumOption(false),
			lz4.ConcurrencyOption(1),
			lz4.CompressionLevelOption(lzLevel),
		)
		if err != nil {
			return dst, err
		}
	}
	dst, err := compressTo(p.w, &p.out, dst, src)
	pool.Put(p)
	return dst, err
}

// pooledLZ4Reader is an LZ4 frame reader with the bytes.Reader it reads.
type pooledLZ4Reader struct {
	r   *lz4.Reader
	src bytes.Reader
}

var lz4Readers = sync.Pool{New: func() any {
	// NewReader decodes on the calling goroutine (concurrency 1).
	return &pooledLZ4Reader{r: lz4.NewReader(nil)}
}}

// release returns p to its pool, holding on to no caller's bytes; the
// reader's block buffer goes back to lz4's own pool.
func (p *pooledLZ4Reader) release() {
	p.src.Reset(nil)
	p.r.Reset(nil)
	lz4Readers.Put(p)
}

// zstd ----------------------------------------------------------------------

// zstdLevel maps Kafka's compression.zstd.level, 0 meaning its default 3.
func zstdLevel(level int) int {
	if level == 0 {
		return 3
	}
	return level
}

// zstdEncoders holds encoders by zstd.EncoderLevel. Each is built with
// concurrency 1 and used only through EncodeAll, which runs on the calling
// goroutine, so a pooled encoder that the GC drops leaves nothing running.
var zstdEncoders [zstd.SpeedBestCompression + 1]sync.Pool

func init() {
	for i := range zstdEncoders {
		level := zstd.EncoderLevel(i)
		zstdEncoders[i].New = func() any {
			enc, err := zstd.NewWriter(nil,
				zstd.WithEncoderConcurrency(1),
				zstd.WithEncoderLevel(max(level, zstd.SpeedFastest)),
				zstd.WithEncoderCRC(false), // the batch CRC covers it
			)
			if err != nil {
				panic(err) // the options are constant
			}
			return enc
		}
	}
}

// pooledZstdDecoder is a decoder with the size limit it was last set to.
type pooledZstdDecoder struct {
	d     *zstd.Decoder
	limit int
}

// zstdDecoders holds decoders built with concurrency 1 and used only
// through DecodeAll, which starts no goroutines.
var zstdDecoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(DefaultMaxDecompressedBytes),
	)
	if err != nil {
		panic(err) // the options are constant
	}
	return &pooledZstdDecoder{d: d, limit: DefaultMaxDecompressedBytes}
}}

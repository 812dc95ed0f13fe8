package kafka

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DefaultMaxRequestBytes bounds a request frame, as Kafka's
// socket.request.max.bytes does by default (100 MiB).
const DefaultMaxRequestBytes = 100 << 20

// errMalformed marks a request the listener cannot parse: its connection
// is closed.
var errMalformed = errors.New("malformed request")

// frameLimits says, from the first two bytes of a request frame (its API
// key), how large the frame may be and what the budget charges for each
// of its bytes.
type frameLimits func(key int16) (maxBytes int32, perByte int64)

// frameReader reads size-prefixed frames.
type frameReader struct {
	maxBytes int32 // the largest frame
	// perAPI, if set, bounds a request frame by its API, and says what the
	// budget charges per byte.
	perAPI frameLimits
	// budget, if set, is charged for a frame before its body is allocated.
	budget *byteBudget
	// beforeBody, if set, runs once a frame's size is known and its charge
	// taken, before its body is read: the listener bounds the body's read
	// in time from there.
	beforeBody func()
}

// read reads one frame. Its size is checked and its charge taken before
// anything is allocated for the body; the caller gives back taken once it
// is done with the frame, also after an error.
func (fr frameReader) read(ctx context.Context, r *bufio.Reader) (frame []byte, taken int64, err error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, 0, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 0 || n > fr.maxBytes {
		return nil, 0, fmt.Errorf("%w: frame of %d bytes; at most %d", errMalformed, n, fr.maxBytes)
	}
	perByte := int64(1)
	if fr.perAPI != nil && n >= 2 {
		head, err := r.Peek(2) // buffered: nothing is allocated yet
		if err != nil {
			return nil, 0, err
		}
		key := int16(binary.BigEndian.Uint16(head))
		var apiMax int32
		if apiMax, perByte = fr.perAPI(key); n > apiMax {
			return nil, 0, fmt.Errorf("%w: %s frame of %d bytes; at most %d", errMalformed, kmsg.NameForKey(key), n, apiMax)
		}
	}
	if fr.budget != nil {
		if taken, err = fr.budget.acquire(ctx, int64(n)*perByte); err != nil {
			return nil, 0, err
		}
	}
	if fr.beforeBody != nil {
		fr.beforeBody()
	}
	frame = make([]byte, n)
	if _, err := io.ReadFull(r, frame); err != nil {
		return nil, taken, err
	}
	return frame, taken, nil
}

// requestHeader is a request's header.
type requestHeader struct {
	key           int16
	version       int16
	correlationID int32
	clientID      string
}

// parseRequest splits a frame into its header and body, and decodes the
// body if the listener serves the API at that version; req is nil when it
// does not. A request naming more than maxEntries entries is refused: a
// Produce body is counted on the wire before it is decoded (entries is
// its partition count, which its response holds), any other after, its
// decoding bounded by its frame's charge. A body of at most maxEntries
// bytes cannot name more (each entry takes at least a byte), so small
// requests are not counted at all.
func parseRequest(frame []byte, maxEntries int) (h requestHeader, req kmsg.Request, entries int, err error) {
	if len(frame) < 10 {
		return h, nil, 0, fmt.Errorf("%w: header of %d bytes", errMalformed, len(frame))
	}
	h.key = int16(binary.BigEndian.Uint16(frame))
	h.version = int16(binary.BigEndian.Uint16(frame[2:]))
	h.correlationID = int32(binary.BigEndian.Uint32(frame[4:]))
	idLen := int16(binary.BigEndian.Uint16(frame[8:]))
	rest := frame[10:]
	if idLen > 0 {
		if int(idLen) > len(rest) {
			return h, nil, 0, fmt.Errorf("%w: client id of %d bytes in %d", errMalformed, idLen, len(rest))
		}
		h.clientID, rest = string(rest[:idLen]), rest[idLen:]
	}
	if hd, ok := handlers[h.key]; !ok || h.version < hd.minVersion || h.version > hd.maxVersion {
		return h, nil, 0, nil // answered UNSUPPORTED_VERSION without decoding it
	}
	req = kmsg.RequestForKey(h.key)
	if req == nil || h.version > req.MaxVersion() {
		return h, nil, 0, nil
	}
	req.SetVersion(h.version)
	if req.IsFlexible() {
		if rest, err = skipTags(rest); err != nil {
			return h, nil, 0, err
		}
	}
	if h.key == int16(kmsg.Produce) {
		if entries, err = producePartitions(rest, h.version); err != nil {
			return h, nil, 0, fmt.Errorf("%w: %s v%d: %v", errMalformed, kmsg.NameForKey(h.key), h.version, err)
		}
		if entries > maxEntries {
			return h, nil, 0, tooManyEntries(h, maxEntries)
		}
	}
	if err := req.ReadFrom(rest); err != nil {
		return h, nil, 0, fmt.Errorf("%w: %s v%d: %v", errMalformed, kmsg.NameForKey(h.key), h.version, err)
	}
	if h.key != int16(kmsg.Produce) && len(rest) > maxEntries && countEntries(reflect.ValueOf(req), maxEntries) > maxEntries {
		return h, nil, 0, tooManyEntries(h, maxEntries)
	}
	return h, req, entries, nil
}

func tooManyEntries(h requestHeader, maxEntries int) error {
	return fmt.Errorf("%w: %s v%d names more than %d", errTooManyEntries, kmsg.NameForKey(h.key), h.version, maxEntries)
}

// skipTags skips a header's tagged fields, which carry nothing creek
// reads.
func skipTags(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, fmt.Errorf("%w: tagged field count", errMalformed)
	}
	b = b[n:]
	for range count {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, fmt.Errorf("%w: tag", errMalformed)
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: tagged field size", errMalformed)
		}
		b = b[n+int(size):]
	}
	return b, nil
}

// appendResponse appends a response frame: size, correlation ID, tagged
// fields for a flexible response other than ApiVersions, then the body.
func appendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		dst = append(dst, 0) // no tagged fields
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

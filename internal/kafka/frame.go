package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DefaultMaxRequestBytes bounds a request frame, as Kafka's
// socket.request.max.bytes does by default (100 MiB).
const DefaultMaxRequestBytes = 100 << 20

// errMalformed marks a request the listener cannot parse: its connection
// is closed.
var errMalformed = errors.New("malformed request")

// readFrame reads one size-prefixed frame. The size is checked against
// maxBytes, and taken from budget (when not nil), before anything is
// allocated for the body; the caller gives back taken once it is done
// with the frame, also after an error.
func readFrame(ctx context.Context, r io.Reader, maxBytes int32, budget *byteBudget) (frame []byte, taken int64, err error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, 0, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 0 || n > maxBytes {
		return nil, 0, fmt.Errorf("%w: frame of %d bytes; at most %d", errMalformed, n, maxBytes)
	}
	if budget != nil {
		if taken, err = budget.acquire(ctx, int64(n)); err != nil {
			return nil, 0, err
		}
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

// parseRequest splits a frame into its header and body. The body is
// decoded only if the version is one kmsg knows; req is nil for an API
// key kmsg does not know.
func parseRequest(frame []byte) (requestHeader, kmsg.Request, error) {
	var h requestHeader
	if len(frame) < 10 {
		return h, nil, fmt.Errorf("%w: header of %d bytes", errMalformed, len(frame))
	}
	h.key = int16(binary.BigEndian.Uint16(frame))
	h.version = int16(binary.BigEndian.Uint16(frame[2:]))
	h.correlationID = int32(binary.BigEndian.Uint32(frame[4:]))
	idLen := int16(binary.BigEndian.Uint16(frame[8:]))
	rest := frame[10:]
	if idLen > 0 {
		if int(idLen) > len(rest) {
			return h, nil, fmt.Errorf("%w: client id of %d bytes in %d", errMalformed, idLen, len(rest))
		}
		h.clientID, rest = string(rest[:idLen]), rest[idLen:]
	}
	req := kmsg.RequestForKey(h.key)
	if req == nil || h.version < 0 || h.version > req.MaxVersion() {
		return h, nil, nil
	}
	req.SetVersion(h.version)
	if req.IsFlexible() {
		var err error
		if rest, err = skipTags(rest); err != nil {
			return h, nil, err
		}
	}
	if err := req.ReadFrom(rest); err != nil {
		return h, nil, fmt.Errorf("%w: %s v%d: %v", errMalformed, kmsg.NameForKey(h.key), h.version, err)
	}
	return h, req, nil
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

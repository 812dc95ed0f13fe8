package hostile

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ClientID is the client ID raw requests carry.
const ClientID = "hostile"

// MaxResponseBytes bounds a response RoundTrip reads into memory.
const MaxResponseBytes = 256 << 20

// AppendRequestHeader appends a request header: api key, version,
// correlation ID and nullable client ID, and for a flexible version the
// empty tagged-field byte. The frame's size prefix is not part of it.
func AppendRequestHeader(dst []byte, key, version int16, correlationID int32, clientID string, flexible bool) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(key))
	dst = binary.BigEndian.AppendUint16(dst, uint16(version))
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(clientID)))
	dst = append(dst, clientID...)
	if flexible {
		dst = append(dst, 0)
	}
	return dst
}

// AppendRequest appends a whole request frame for req at the version set
// on it: the int32 size, the header and req's body.
func AppendRequest(dst []byte, req kmsg.Request, correlationID int32) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = AppendRequestHeader(dst, req.Key(), req.GetVersion(), correlationID, ClientID, req.IsFlexible())
	dst = req.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// RawConn is one TCP connection to a broker on which the caller writes
// frames it built and reads the responses.
type RawConn struct {
	nc   net.Conn
	r    *bufio.Reader
	corr int32
}

// DialRaw connects to addr.
func DialRaw(ctx context.Context, addr string) (*RawConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &RawConn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}, nil
}

// Conn is the underlying connection.
func (c *RawConn) Conn() net.Conn { return c.nc }

// Close closes the connection.
func (c *RawConn) Close() error { return c.nc.Close() }

// SetDeadline sets the connection's read and write deadline.
func (c *RawConn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// NextCorrelationID returns the correlation ID the next request uses and
// advances it.
func (c *RawConn) NextCorrelationID() int32 {
	c.corr++
	return c.corr
}

// Write writes b as it is.
func (c *RawConn) Write(b []byte) error {
	_, err := c.nc.Write(b)
	return err
}

// Send writes req as one frame and returns its correlation ID.
func (c *RawConn) Send(req kmsg.Request) (int32, error) {
	corr := c.NextCorrelationID()
	return corr, c.Write(AppendRequest(nil, req, corr))
}

// ReadFrame reads one response frame and returns its correlation ID and
// the bytes after it; a frame over maxBytes is an error and is not read.
func (c *RawConn) ReadFrame(maxBytes int) (int32, []byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(c.r, size[:]); err != nil {
		return 0, nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 4 || int(n) > maxBytes {
		return 0, nil, fmt.Errorf("response frame of %d bytes (at most %d read)", n, maxBytes)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(c.r, frame); err != nil {
		return 0, nil, err
	}
	return int32(binary.BigEndian.Uint32(frame)), frame[4:], nil
}

// SkipFrame reads one response frame without keeping it and returns its
// size (after the size prefix) and correlation ID.
func (c *RawConn) SkipFrame() (int64, int32, error) {
	var head [8]byte
	if _, err := io.ReadFull(c.r, head[:]); err != nil {
		return 0, 0, err
	}
	n := int64(int32(binary.BigEndian.Uint32(head[:])))
	if n < 4 {
		return n, 0, fmt.Errorf("response frame of %d bytes", n)
	}
	corr := int32(binary.BigEndian.Uint32(head[4:]))
	if _, err := io.CopyN(io.Discard, c.r, n-4); err != nil {
		return n, corr, fmt.Errorf("response frame of %d bytes cut short: %w", n, err)
	}
	return n, corr, nil
}

// RoundTrip sends req, reads its response within timeout and decodes it.
func (c *RawConn) RoundTrip(req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	defer c.SetDeadline(time.Time{})
	corr, err := c.Send(req)
	if err != nil {
		return nil, fmt.Errorf("send %s v%d: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	got, body, err := c.ReadFrame(MaxResponseBytes)
	if err != nil {
		return nil, fmt.Errorf("read %s v%d response: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	if got != corr {
		return nil, fmt.Errorf("%s response has correlation ID %d, want %d", kmsg.NameForKey(req.Key()), got, corr)
	}
	resp := req.ResponseKind()
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		if body, err = skipTaggedFields(body); err != nil {
			return nil, err
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decode %s v%d response: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp, nil
}

// skipTaggedFields skips a response header's tagged fields.
func skipTaggedFields(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errors.New("response header: bad tagged field count")
	}
	b = b[n:]
	for range count {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, errors.New("response header: bad tag")
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, errors.New("response header: bad tagged field size")
		}
		b = b[n+int(size):]
	}
	return b, nil
}

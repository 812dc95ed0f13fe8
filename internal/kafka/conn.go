package kafka

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Conn is a connection to another node's Kafka listener, for what nodes
// ask each other: a follower's replica fetches, a request forwarded to the
// controller. Requests go one at a time, each at the highest version both
// sides serve (learnt once with ApiVersions). It is safe for concurrent
// use; callers wanting parallel requests open more connections.
type Conn struct {
	nc       net.Conn
	r        *bufio.Reader
	clientID string
	maxBytes int32

	mu            sync.Mutex // one request at a time
	correlationID int32
	versions      map[int16]int16 // the peer's maximum version per key
	broken        error           // a failed request leaves the stream unusable
}

// Dial connects to addr and learns which versions the peer serves.
func Dial(ctx context.Context, addr, clientID string) (*Conn, error) {
	var d net.Dialer
	return DialVia(ctx, d.DialContext, addr, clientID)
}

// DialVia is Dial through dial, a network tests can cut.
func DialVia(ctx context.Context, dial func(ctx context.Context, network, addr string) (net.Conn, error),
	addr, clientID string) (*Conn, error) {
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), clientID: clientID, maxBytes: DefaultMaxRequestBytes}
	resp, err := c.request(ctx, kmsg.NewPtrApiVersionsRequest(), 3)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("ApiVersions with %s: %w", addr, err)
	}
	c.versions = map[int16]int16{}
	for _, k := range resp.(*kmsg.ApiVersionsResponse).ApiKeys {
		c.versions[k.ApiKey] = k.MaxVersion
	}
	return c, nil
}

// Request sends req at the highest version both sides serve and returns
// the response. A request the peer does not serve is an error.
func (c *Conn) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	peerMax, ok := c.versions[req.Key()]
	if !ok {
		return nil, fmt.Errorf("%s is not served by %s", kmsg.NameForKey(req.Key()), c.nc.RemoteAddr())
	}
	return c.request(ctx, req, min(peerMax, req.MaxVersion()))
}

// RequestAt sends req at version, which need not be the highest both
// serve, and returns the response. A version the peer does not serve is
// an error.
func (c *Conn) RequestAt(ctx context.Context, req kmsg.Request, version int16) (kmsg.Response, error) {
	if peerMax, ok := c.versions[req.Key()]; !ok || version < 0 || version > min(peerMax, req.MaxVersion()) {
		return nil, fmt.Errorf("%s v%d is not served by %s", kmsg.NameForKey(req.Key()), version, c.nc.RemoteAddr())
	}
	return c.request(ctx, req, version)
}

func (c *Conn) request(ctx context.Context, req kmsg.Request, version int16) (resp kmsg.Response, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, fmt.Errorf("connection to %s broken earlier: %w", c.nc.RemoteAddr(), c.broken)
	}
	defer func() {
		if err != nil {
			c.broken = err // a response may still be on its way: the stream is out of step
		}
	}()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	c.nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Now()) }) // a cancelled ctx ends the wait
	defer stop()

	c.correlationID++
	req.SetVersion(version)
	frame := binary.BigEndian.AppendUint32(nil, 0)
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.Key()))
	frame = binary.BigEndian.AppendUint16(frame, uint16(version))
	frame = binary.BigEndian.AppendUint32(frame, uint32(c.correlationID))
	frame = binary.BigEndian.AppendUint16(frame, uint16(len(c.clientID)))
	frame = append(frame, c.clientID...)
	if req.IsFlexible() {
		frame = append(frame, 0)
	}
	frame = req.AppendTo(frame)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	if _, err := c.nc.Write(frame); err != nil {
		return nil, c.failed(ctx, err)
	}
	reply, _, err := frameReader{maxBytes: c.maxBytes}.read(ctx, c.r)
	if err != nil {
		return nil, c.failed(ctx, err)
	}
	if len(reply) < 4 || int32(binary.BigEndian.Uint32(reply)) != c.correlationID {
		return nil, fmt.Errorf("%w: response to request %d out of order", errMalformed, c.correlationID)
	}
	resp = req.ResponseKind()
	resp.SetVersion(version)
	body := reply[4:]
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		if body, err = skipTags(body); err != nil {
			return nil, err
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("%w: %s response: %v", errMalformed, kmsg.NameForKey(req.Key()), err)
	}
	return resp, nil
}

// failed reports ctx's error when it ended the wait, else err. The
// socket's deadline, set from ctx's, may fire a moment before ctx's own.
func (c *Conn) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if _, fromCtx := ctx.Deadline(); fromCtx && errors.Is(err, os.ErrDeadlineExceeded) {
		return context.DeadlineExceeded
	}
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

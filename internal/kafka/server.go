package kafka

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Config configures a Server. The zero value is valid.
type Config struct {
	// NodeID is the broker's ID in Metadata responses; default 0.
	NodeID int32
	// ClusterID names the cluster in Metadata responses.
	ClusterID string
	// MaxRequestBytes bounds a request (socket.request.max.bytes); default
	// DefaultMaxRequestBytes.
	MaxRequestBytes int32
	// IdleTimeout closes a connection that sends nothing for this long
	// (connections.max.idle.ms); default 10 min.
	IdleTimeout time.Duration
	// WriteTimeout closes a connection whose client has not taken a
	// response within it; default 30 s.
	WriteTimeout time.Duration
	// RequestReadTimeout closes a connection whose client has not sent the
	// rest of a request within it of the node's starting to read it (its
	// share of the budget taken): a client that sends part of a frame and
	// stops holds that share no longer. Default 30 s, a Kafka client's
	// request.timeout.ms.
	RequestReadTimeout time.Duration
	// QueuedMaxRequestBytes bounds the bytes of requests all connections
	// together are reading and have not started
	// (queued.max.request.bytes); default DefaultQueuedMaxRequestBytes.
	QueuedMaxRequestBytes int64
	// FetchMaxBytes bounds a Fetch response's records whatever the client
	// asks (the broker's fetch.max.bytes); default DefaultFetchMaxBytes.
	FetchMaxBytes int32
	// MaxRequestEntries bounds the entries (topics, partitions, groups,
	// configs: every repeated element) one request names; a request naming
	// more closes its connection. Default DefaultMaxRequestEntries.
	MaxRequestEntries int
	// TransactionVersion is the transaction.version feature the server
	// has finalized, which ApiVersions v3+ tell clients: at 2 (KIP-890's
	// second part) a transactional batch of Produce v12+ adds its partition
	// to its transaction, TxnOffsetCommit v5+ adds the group's offsets to
	// it, and clients expect EndTxn v5 to bump their epoch; below 2 a
	// partition only verifies that it is in the transaction. 0 is taken
	// for 1.
	TransactionVersion int16
	// SASL is the authentication of the listeners whose clients
	// authenticate before anything but ApiVersions (saslauth.go); a
	// Listener with SASL needs it.
	SASL *SASL
	// Authorizer, when set, decides each request by its principal's ACLs
	// (authorize.go); nil serves every request.
	Authorizer Authorizer
	// Logger receives connection errors; default slog.Default().
	Logger *slog.Logger
}

// Listener is a socket a Server serves: one of a node's listeners, as
// Kafka names them, with its security protocol (PLAINTEXT; SSL when its
// socket is crypto/tls's; SASL_PLAINTEXT and SASL_SSL with SASL).
type Listener struct {
	// Name is the listener's name, by which the Broker is asked for each
	// node's address on it: a client is told of the nodes on the listener
	// it connected to.
	Name string
	// Listener is the socket.
	Listener net.Listener
	// SASL makes its clients authenticate with Config.SASL.
	SASL bool
	// AdvertisedHost and AdvertisedPort are the address clients are told
	// to connect to; default the socket's.
	AdvertisedHost string
	AdvertisedPort int32
}

// Server serves the Kafka protocol on one or more listeners.
type Server struct {
	cfg       Config
	broker    Broker
	listeners []*Listener

	ctx    context.Context // requests' context; cancelled by Close
	cancel context.CancelFunc
	// requestBytes is what requests take of QueuedMaxRequestBytes: the
	// frames being read, and what requests being answered hold (see
	// frameLimits, responseEntryBytes and Fetch's records) until their
	// responses are written.
	requestBytes *byteBudget
	wg           sync.WaitGroup // the accept loop and every connection

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// Serve starts serving the listeners; Close stops it. The first is the
// one Addr returns. A listener with SASL needs Config.SASL.
func Serve(b Broker, cfg Config, listeners ...Listener) *Server {
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	cfg.TransactionVersion = max(cfg.TransactionVersion, 1)
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.RequestReadTimeout <= 0 {
		cfg.RequestReadTimeout = 30 * time.Second
	}
	if cfg.QueuedMaxRequestBytes <= 0 {
		cfg.QueuedMaxRequestBytes = DefaultQueuedMaxRequestBytes
	}
	if cfg.FetchMaxBytes <= 0 {
		cfg.FetchMaxBytes = DefaultFetchMaxBytes
	}
	if cfg.MaxRequestEntries <= 0 {
		cfg.MaxRequestEntries = DefaultMaxRequestEntries
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, broker: b, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{},
		requestBytes: newByteBudget(cfg.QueuedMaxRequestBytes)}
	for _, l := range listeners {
		if l.SASL && cfg.SASL == nil {
			panic(fmt.Sprintf("kafka: listener %s has SASL but Config.SASL is nil", l.Name))
		}
		if addr, ok := l.Listener.Addr().(*net.TCPAddr); ok {
			if l.AdvertisedHost == "" {
				l.AdvertisedHost = addr.IP.String()
			}
			if l.AdvertisedPort == 0 {
				l.AdvertisedPort = int32(addr.Port)
			}
		}
		s.listeners = append(s.listeners, &l)
	}
	for _, l := range s.listeners {
		s.wg.Add(1)
		go s.accept(l)
	}
	return s
}

// Config returns the server's configuration, with the defaults it filled
// in.
func (s *Server) Config() Config { return s.cfg }

// Addr returns the address of the first listener.
func (s *Server) Addr() net.Addr { return s.listeners[0].Listener.Addr() }

// Listeners returns the listeners served, with the addresses they
// advertise.
func (s *Server) Listeners() []Listener {
	out := make([]Listener, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = *l
	}
	return out
}

// accept serves l's connections until its socket closes.
func (s *Server) accept(l *Listener) {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := l.Listener.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of file descriptors (EMFILE, ENFILE), a connection reset
			// before it was accepted: the listener stays, and the node with
			// it, so wait and accept again, as net/http's server does. Before,
			// one EMFILE stopped the listener for good.
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			s.cfg.Logger.Warn("kafka listener cannot accept a connection; trying again", "err", err, "in", backoff)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(l, nc)
	}
}

// The pause before accepting again after an accept failed: it doubles
// from acceptBackoffMin at each failure in a row, up to acceptBackoffMax.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// maxPipelined bounds the requests of one connection read ahead of their
// responses.
const maxPipelined = 32

// pending is a request read and started, waiting to be finished and
// answered in turn.
type pending struct {
	h      requestHeader
	finish func() kmsg.Response
	held   int64 // of the budget, given back once the response is written
	last   bool  // the connection closes once it is answered
}

// serveConn serves a connection until it closes, sends something
// malformed, or idles out. Its reader reads and starts requests in order;
// its writer finishes them and writes the responses in the same order, so
// a client may pipeline, and a Produce's wait for fsync overlaps the
// reading and appending of the requests after it.
func (s *Server) serveConn(l *Listener, nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		nc.Close()
	}()
	queue := make(chan pending, maxPipelined)
	written := make(chan struct{})
	go func() {
		defer close(written)
		s.writeResponses(nc, queue)
	}()
	s.readRequests(l, nc, queue)
	close(queue)
	<-written
}

func (s *Server) readRequests(l *Listener, nc net.Conn, queue chan<- pending) {
	r := bufio.NewReaderSize(nc, 64<<10)
	host, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	host = "/" + host // as Kafka shows a member's client host
	frames := frameReader{maxBytes: s.cfg.MaxRequestBytes, perAPI: s.frameLimits, budget: s.requestBytes,
		beforeBody: func() { s.armDeadline(nc, s.cfg.RequestReadTimeout) }}
	auth, err := s.tlsHandshake(nc, l.SASL)
	if err != nil {
		s.logConnError(nc, "TLS handshake", err)
		return
	}
	for {
		if !s.armDeadline(nc, s.cfg.IdleTimeout) {
			return
		}
		frames.maxBytes = s.frameMaxBytes(&auth)
		frame, taken, err := frames.read(s.ctx, r)
		if err != nil {
			s.requestBytes.release(taken)
			s.logConnError(nc, "read request", err)
			return
		}
		h, req, entries, err := parseRequest(frame, s.cfg.MaxRequestEntries)
		if err != nil {
			s.requestBytes.release(taken)
			s.logConnError(nc, "parse request", err)
			return
		}
		if v := s.screen(&auth, h, req); v.intercept {
			s.requestBytes.release(taken)
			if v.resp != nil {
				resp := v.resp
				queue <- pending{h: h, finish: func() kmsg.Response { return resp }, last: v.close}
			}
			if v.close {
				return
			}
			continue
		}
		ctx := withClient(s.ctx, client{id: h.clientID, host: host, principal: auth.principalOf(), listener: l})
		finish, ok := s.startSafely(ctx, h, req)
		held := s.holdAfterStart(h.key, taken, entries)
		if !ok {
			s.requestBytes.release(held)
			s.cfg.Logger.Warn("kafka request not served; closing connection", "remote", nc.RemoteAddr(),
				"api_key", h.key, "version", h.version, "client", h.clientID)
			return
		}
		queue <- pending{h: h, finish: finish, held: held}
	}
}

// writeResponses finishes each request in turn and writes its response.
// After a failed write it still finishes the rest, which may hold locks
// until they do, and writes nothing more.
func (s *Server) writeResponses(nc net.Conn, queue <-chan pending) {
	var out []byte
	failed := false
	for p := range queue {
		if failed {
			resp, _ := s.finishSafely(p)
			release(resp)
		} else {
			out, failed = s.answer(nc, p, out)
			failed = failed || p.last
		}
		s.requestBytes.release(p.held)
	}
}

// maxKeptResponseBuffer is the largest response buffer a connection keeps
// for its next response: a large one goes back to the runtime.
const maxKeptResponseBuffer = 1 << 20

// answer finishes a request and writes its response, encoded into out,
// which it returns for the next; failed reports that the connection can
// take no more.
func (s *Server) answer(nc net.Conn, p pending, out []byte) (_ []byte, failed bool) {
	resp, ok := s.finishSafely(p)
	if !ok {
		nc.Close() // the reader stops too
		return out, true
	}
	if resp == nil {
		return out, false
	}
	out = appendResponse(out[:0], p.h.correlationID, resp)
	if _, err := s.write(nc, out); err != nil {
		s.logConnError(nc, "write response", err)
		nc.Close()
		failed = true
	}
	release(resp) // written: its buffers may be reused, its charge given back
	if cap(out) > maxKeptResponseBuffer {
		out = nil
	}
	return out, failed
}

// write writes a response within WriteTimeout: a client that stops
// reading is dropped rather than hold its connection, and Close, for
// ever.
func (s *Server) write(nc net.Conn, b []byte) (int, error) {
	if !s.armWriteDeadline(nc) {
		return 0, net.ErrClosed
	}
	return nc.Write(b)
}

// release gives back what a response holds (Fetch's buffers and its
// records' share of the budget) once it is written or dropped.
func release(resp kmsg.Response) {
	if r, ok := resp.(interface{ Release() }); ok {
		r.Release()
	}
}

// armDeadline sets the connection's read deadline d from now — the idle
// timeout before a request, the request read timeout once one has begun —
// unless the server is closing. Close sets the deadlines under the same
// lock, so a deadline set here never outlives Close.
func (s *Server) armDeadline(nc net.Conn, d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	nc.SetReadDeadline(time.Now().Add(d))
	return true
}

// armWriteDeadline bounds the write of the next response, unless the
// server is closing.
func (s *Server) armWriteDeadline(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	nc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	return true
}

// startSafely starts a request; a panic in its handler closes only this
// connection.
func (s *Server) startSafely(ctx context.Context, h requestHeader, req kmsg.Request) (finish func() kmsg.Response, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.Error("kafka handler panicked", "api_key", h.key, "version", h.version, "panic", p)
			finish, ok = nil, false
		}
	}()
	return s.handle(ctx, h, req)
}

// finishSafely finishes a started request, recovering a panic as
// startSafely does.
func (s *Server) finishSafely(p pending) (resp kmsg.Response, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Logger.Error("kafka handler panicked", "api_key", p.h.key, "version", p.h.version, "panic", r)
			resp, ok = nil, false
		}
	}()
	return p.finish(), true
}

func (s *Server) logConnError(nc net.Conn, what string, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.mu.Lock()
		closing := s.closed
		s.mu.Unlock()
		if !closing {
			s.cfg.Logger.Info("kafka connection closed: no request, or not all of one, within its timeout", "remote", nc.RemoteAddr())
		}
		return
	}
	s.cfg.Logger.Warn("kafka connection closed", "remote", nc.RemoteAddr(), "during", what, "err", err)
}

// Close stops accepting connections, lets each connection finish the
// request it is handling (waiting requests, such as a long-polling Fetch,
// return at once with what they have), then closes them. A second Close
// does nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var errs []error
	for _, l := range s.listeners {
		errs = append(errs, l.Listener.Close())
	}
	for nc := range s.conns {
		nc.SetReadDeadline(time.Now())  // the read after the current request fails
		nc.SetWriteDeadline(time.Now()) // and so does a write a client is not reading
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return errors.Join(errs...)
}

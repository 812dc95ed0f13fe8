package kafka_test

import (
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/sasl"
)

// saslServer serves SASL PLAIN, bob's password hunter2 or carol's
// opensesame, sessions of a minute, on the clock it returns (Unix
// seconds), with no broker behind: ApiVersions is all it answers past
// authentication.
func saslServer(t *testing.T, cfg *kafka.SASL) (net.Addr, *atomic.Int64) {
	t.Helper()
	var clock atomic.Int64
	clock.Store(1e9)
	if cfg == nil {
		check := func(user, pass string) bool {
			return user == "bob" && pass == "hunter2" || user == "carol" && pass == "opensesame"
		}
		cfg = &kafka.SASL{Mechanisms: []string{sasl.Plain}, SessionLifetime: time.Minute,
			NewServer: func(string) sasl.Server { return sasl.NewPlain(check) },
			Now:       func() time.Time { return time.Unix(clock.Load(), 0) }}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := kafka.Serve(nil, kafka.Config{SASL: cfg, Logger: slog.New(slog.DiscardHandler)},
		kafka.Listener{Listener: ln, SASL: true})
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return ln.Addr(), &clock
}

// handshake sends SaslHandshake v1 for mechanism and returns the answer.
func (w *wire) handshake(mechanism string) *kmsg.SASLHandshakeResponse {
	w.t.Helper()
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.Mechanism = mechanism
	w.send(req, 1, 1)
	resp := kmsg.NewPtrSASLHandshakeResponse()
	w.receive(resp, 1)
	return resp
}

// authenticate sends SaslAuthenticate v2 with PLAIN's message for user
// and password, and returns the answer.
func (w *wire) authenticate(user, password string) *kmsg.SASLAuthenticateResponse {
	w.t.Helper()
	req := kmsg.NewPtrSASLAuthenticateRequest()
	req.SASLAuthBytes = []byte("\x00" + user + "\x00" + password)
	w.send(req, 2, 2)
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	w.receive(resp, 2)
	return resp
}

// apiVersionsAnswered sends ApiVersions and reports whether it was
// answered, not the connection closed.
func (w *wire) apiVersionsAnswered() bool {
	w.t.Helper()
	w.send(kmsg.NewPtrApiVersionsRequest(), 3, 3)
	w.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := w.r.Peek(1); err != nil {
		return false
	}
	w.receive(kmsg.NewPtrApiVersionsResponse(), 3)
	return true
}

// TestSASLAuthentication: a SASL listener serves ApiVersions, then a
// handshake of an enabled mechanism, then its authentication; anything
// out of that order, an unknown mechanism and a failed authentication
// close the connection, as Kafka's authenticator does. A session lasts
// SessionLifetime, which SaslAuthenticate tells the client; it
// authenticates again on the connection, as itself, before it ends, and
// one past it is closed at its next request (KIP-368).
func TestSASLAuthentication(t *testing.T) {
	addr, clock := saslServer(t, nil)

	t.Run("a request before authenticating", func(t *testing.T) {
		w := dial(t, addr)
		w.send(kmsg.NewPtrMetadataRequest(), 12, 1)
		assert.True(t, w.closed())
	})
	t.Run("an unknown mechanism", func(t *testing.T) {
		w := dial(t, addr)
		require.True(t, w.apiVersionsAnswered())
		resp := w.handshake("GSSAPI")
		assert.Equal(t, kerr.UnsupportedSaslMechanism.Code, resp.ErrorCode)
		assert.Equal(t, []string{"PLAIN"}, resp.SupportedMechanisms)
		assert.True(t, w.closed())
	})
	t.Run("a handshake at version 0", func(t *testing.T) {
		w := dial(t, addr)
		req := kmsg.NewPtrSASLHandshakeRequest()
		req.Mechanism = "PLAIN"
		w.send(req, 0, 1)
		resp := kmsg.NewPtrSASLHandshakeResponse()
		w.receive(resp, 0)
		assert.Equal(t, kerr.UnsupportedSaslMechanism.Code, resp.ErrorCode, "its bare tokens are not served")
		assert.True(t, w.closed())
	})
	t.Run("a large request before authenticating", func(t *testing.T) {
		w := dial(t, addr)
		require.Zero(t, w.handshake("PLAIN").ErrorCode)
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.SASLAuthBytes = make([]byte, kafka.MaxUnauthenticatedBytes)
		w.nc.Write(kafka.RequestFrame(req, 2, 2)) // the server may close before it has all of it
		w.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := w.r.ReadByte()
		require.Error(t, err, "closed, past sasl.server.max.receive.size")
		assert.NotErrorIs(t, err, os.ErrDeadlineExceeded)
	})
	t.Run("authenticate without a handshake", func(t *testing.T) {
		w := dial(t, addr)
		req := kmsg.NewPtrSASLAuthenticateRequest()
		w.send(req, 2, 1)
		assert.True(t, w.closed())
	})
	t.Run("a wrong password", func(t *testing.T) {
		w := dial(t, addr)
		require.Zero(t, w.handshake("PLAIN").ErrorCode)
		resp := w.authenticate("bob", "hunter3")
		assert.Equal(t, kerr.SaslAuthenticationFailed.Code, resp.ErrorCode)
		require.NotNil(t, resp.ErrorMessage)
		assert.NotContains(t, *resp.ErrorMessage, "hunter")
		assert.True(t, w.closed())
	})
	t.Run("a session ends", func(t *testing.T) {
		w := dial(t, addr)
		require.Zero(t, w.handshake("PLAIN").ErrorCode)
		resp := w.authenticate("bob", "hunter2")
		require.Zero(t, resp.ErrorCode)
		assert.Equal(t, int64(60_000), resp.SessionLifetimeMillis)
		assert.True(t, w.apiVersionsAnswered())
		clock.Add(60)
		assert.False(t, w.apiVersionsAnswered(), "past its session")
	})
	t.Run("authenticated again", func(t *testing.T) {
		w := dial(t, addr)
		require.Zero(t, w.handshake("PLAIN").ErrorCode)
		require.Zero(t, w.authenticate("bob", "hunter2").ErrorCode)
		clock.Add(30)
		require.Zero(t, w.handshake("PLAIN").ErrorCode)
		require.Zero(t, w.authenticate("bob", "hunter2").ErrorCode)
		clock.Add(45)
		assert.True(t, w.apiVersionsAnswered(), "the second session runs from its own start")
		require.Zero(t, w.handshake("PLAIN").ErrorCode)
		resp := w.authenticate("carol", "opensesame")
		assert.Equal(t, kerr.SaslAuthenticationFailed.Code, resp.ErrorCode, "another principal")
		assert.True(t, w.closed())
	})
}

// TestSASLOutOfPlace: where no authentication expects them — a listener
// without SASL, or a connection authenticated for good — SaslHandshake
// and SaslAuthenticate get ILLEGAL_SASL_STATE, and the connection stays.
func TestSASLOutOfPlace(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := kafka.Serve(nil, kafka.Config{Logger: slog.New(slog.DiscardHandler)}, kafka.Listener{Listener: ln})
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	forGood := &kafka.SASL{Mechanisms: []string{sasl.Plain},
		NewServer: func(string) sasl.Server { return sasl.NewPlain(func(string, string) bool { return true }) }}
	authenticated, _ := saslServer(t, forGood)

	for name, addr := range map[string]net.Addr{"no SASL": ln.Addr(), "authenticated": authenticated} {
		t.Run(name, func(t *testing.T) {
			w := dial(t, addr)
			if addr == authenticated {
				require.Zero(t, w.handshake("PLAIN").ErrorCode)
				require.Zero(t, w.authenticate("bob", "x").ErrorCode)
			}
			assert.Equal(t, kerr.IllegalSaslState.Code, w.handshake("PLAIN").ErrorCode)
			assert.Equal(t, kerr.IllegalSaslState.Code, w.authenticate("bob", "x").ErrorCode)
			assert.True(t, w.apiVersionsAnswered())
		})
	}
}

// TestSASLSessionEndsWithItsToken: an OAUTHBEARER session lasts no longer
// than its token, when that ends before SessionLifetime (KIP-368).
func TestSASLSessionEndsWithItsToken(t *testing.T) {
	var clock atomic.Int64
	clock.Store(1e9)
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	validate := func(token string) (string, time.Time, error) {
		return "svc", now().Add(10 * time.Minute), nil
	}
	addr, _ := saslServer(t, &kafka.SASL{Mechanisms: []string{sasl.OAuthBearer}, SessionLifetime: time.Hour, Now: now,
		NewServer: func(string) sasl.Server { return sasl.NewOAuthBearer(validate) }})
	w := dial(t, addr)
	require.Zero(t, w.handshake(sasl.OAuthBearer).ErrorCode)
	req := kmsg.NewPtrSASLAuthenticateRequest()
	req.SASLAuthBytes = []byte("n,,\x01auth=Bearer t\x01\x01")
	w.send(req, 2, 2)
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	w.receive(resp, 2)
	require.Zero(t, resp.ErrorCode)
	assert.Equal(t, (10 * time.Minute).Milliseconds(), resp.SessionLifetimeMillis)
	clock.Add(600)
	assert.False(t, w.apiVersionsAnswered(), "past its token's end")
}

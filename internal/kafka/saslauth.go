// SASL on a connection (issue 17): SaslHandshake (17) v1 and
// SaslAuthenticate (36) v0–2, the connection's state from its first
// request to its authentication, and re-authentication (KIP-368).

package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/sasl"
)

// SASL makes a listener's clients authenticate before anything else, as
// Kafka's SASL_PLAINTEXT and SASL_SSL listeners do.
type SASL struct {
	// Mechanisms are the enabled mechanisms' names, in the order
	// SaslHandshake lists them.
	Mechanisms []string
	// NewServer starts one authentication by mechanism, one of
	// Mechanisms.
	NewServer func(mechanism string) sasl.Server
	// SessionLifetime, when set, is how long an authentication lasts
	// (connections.max.reauth.ms, KIP-368): SaslAuthenticate v1+ tells the
	// client, which authenticates again on the same connection before it
	// ends, as the same principal; a connection past it is closed at its
	// next request. Zero: an authentication lasts as long as its
	// connection.
	SessionLifetime time.Duration
	// Now is the clock of session lifetimes; default time.Now.
	Now func() time.Time
}

// saslState is where one connection is in its authentication. The
// connection's reader alone uses it, in request order.
type saslState struct {
	mechanism string
	server    sasl.Server // between a handshake and the authentication's end
	principal string      // once authenticated: "User:" and the user name
	expires   time.Time   // the session's end, zero for none
	// certificate is the principal of the client's verified TLS
	// certificate, "" for none.
	certificate string
	// required is the listener's SASL: the connection authenticates.
	required bool
}

// Principal is who a connection's requests come from: "User:" and the
// user a SASL authentication named, or Anonymous on a listener without
// SASL, as Kafka names them.
type Principal string

// Anonymous is the principal of a client that did not authenticate.
const Anonymous Principal = "User:ANONYMOUS"

// saslVerdict is what the SASL state makes of a request before it is
// served: answer it with resp (nil: serve it as any other), and close the
// connection after the answer.
type saslVerdict struct {
	resp      kmsg.Response
	intercept bool
	close     bool
}

// screen decides what a request on a connection of a SASL listener does:
// ApiVersions is served before authentication; SaslHandshake and
// SaslAuthenticate step it; anything else before it, or after its session
// ended, closes the connection, as Kafka's authenticator does.
func (s *Server) screen(st *saslState, h requestHeader, req kmsg.Request) saslVerdict {
	cfg := s.cfg.SASL
	if !st.required {
		return saslVerdict{}
	}
	authenticated := st.principal != "" && st.server == nil
	expired := authenticated && !st.expires.IsZero() && !s.saslNow().Before(st.expires)
	if h.key == int16(kmsg.ApiVersions) && !expired {
		return saslVerdict{} // at any version: one it does not serve is answered as such
	}
	switch r := req.(type) {
	case *kmsg.SASLHandshakeRequest:
		switch {
		case st.server == nil && (!authenticated || cfg.SessionLifetime > 0):
			return s.handshake(st, r)
		case authenticated && !expired:
			return saslVerdict{} // ILLEGAL_SASL_STATE: its sessions do not end
		}
	case *kmsg.SASLAuthenticateRequest:
		switch {
		case st.server != nil:
			return s.authenticate(st, r)
		case authenticated && !expired:
			return saslVerdict{} // ILLEGAL_SASL_STATE: no handshake began one
		}
	default:
		if authenticated && !expired {
			return saslVerdict{}
		}
	}
	s.cfg.Logger.Info("kafka request out of its place in SASL authentication; closing connection",
		"api_key", h.key, "version", h.version, "client", h.clientID, "session_ended", expired)
	return saslVerdict{intercept: true, close: true}
}

// MaxUnauthenticatedBytes bounds a request on a SASL listener before its
// connection has authenticated (sasl.server.max.receive.size, Kafka's
// 512 KiB): a client that has proved nothing may not make the server read
// MaxRequestBytes.
const MaxUnauthenticatedBytes = 512 << 10

// frameMaxBytes returns the largest request the connection may send now.
func (s *Server) frameMaxBytes(st *saslState) int32 {
	if st.required && (st.principal == "" || st.server != nil) {
		return min(s.cfg.MaxRequestBytes, MaxUnauthenticatedBytes)
	}
	return s.cfg.MaxRequestBytes
}

// handshake answers SaslHandshake: the mechanism, if enabled, starts an
// authentication; otherwise UNSUPPORTED_SASL_MECHANISM, and the
// connection closes. Either way the response lists the enabled ones.
// Version 0, after which a client sends bare SASL tokens rather than
// SaslAuthenticate requests, is advertised (librdkafka takes SASL for
// unsupported without it, though it then uses version 1) but refused so:
// only clients from before Kafka 1.0 use it.
func (s *Server) handshake(st *saslState, req *kmsg.SASLHandshakeRequest) saslVerdict {
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	resp.SupportedMechanisms = s.cfg.SASL.Mechanisms
	if req.Version < 1 || !slices.Contains(s.cfg.SASL.Mechanisms, req.Mechanism) {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return saslVerdict{resp: resp, intercept: true, close: true}
	}
	st.mechanism, st.server = req.Mechanism, s.cfg.SASL.NewServer(req.Mechanism)
	return saslVerdict{resp: resp, intercept: true}
}

// authenticate answers SaslAuthenticate with the mechanism's next step.
// A failure is SASL_AUTHENTICATION_FAILED, after which the connection
// closes; a re-authentication must name the principal the connection had.
func (s *Server) authenticate(st *saslState, req *kmsg.SASLAuthenticateRequest) saslVerdict {
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	out, user, done, err := st.server.Step(req.SASLAuthBytes)
	if err == nil && done && st.principal != "" && st.principal != "User:"+user {
		err = fmt.Errorf("%w: re-authenticated as %q, not as the connection's %s", sasl.ErrAuthentication, user, st.principal)
	}
	if err != nil {
		if !errors.Is(err, sasl.ErrAuthentication) {
			err = fmt.Errorf("%w: %v", sasl.ErrAuthentication, err)
		}
		s.cfg.Logger.Info("kafka client failed SASL authentication", "mechanism", st.mechanism, "err", err)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := fmt.Sprintf("Authentication failed during authentication due to invalid credentials with SASL mechanism %s", st.mechanism)
		if refusal := (*sasl.Refusal)(nil); errors.As(err, &refusal) {
			msg = "Authentication failed: " + refusal.Message
		}
		resp.ErrorMessage = &msg
		return saslVerdict{resp: resp, intercept: true, close: true}
	}
	resp.SASLAuthBytes = out
	if done {
		var end time.Time // a credential's own end, an OAUTHBEARER token's
		if e, ok := st.server.(interface{ SessionEnd() time.Time }); ok {
			end = e.SessionEnd()
		}
		st.server, st.principal, st.expires = nil, "User:"+user, time.Time{}
		now := s.saslNow()
		if life := s.cfg.SASL.SessionLifetime; life > 0 && (end.IsZero() || now.Add(life).Before(end)) {
			end = now.Add(life)
		}
		if !end.IsZero() && s.cfg.SASL.SessionLifetime > 0 {
			st.expires = end
			resp.SessionLifetimeMillis = max(end.Sub(now).Milliseconds(), 1)
		}
	}
	return saslVerdict{resp: resp, intercept: true}
}

func (s *Server) saslNow() time.Time {
	if s.cfg.SASL.Now != nil {
		return s.cfg.SASL.Now()
	}
	return time.Now()
}

// principalOf returns a connection's principal for its requests' context:
// its SASL user's once it authenticated, else its TLS client
// certificate's, else Anonymous.
func (st *saslState) principalOf() Principal {
	switch {
	case st.principal != "" && st.server == nil:
		return Principal(st.principal)
	case st.certificate != "":
		return Principal(st.certificate)
	}
	return Anonymous
}

// tlsHandshake completes a TLS connection's handshake, within
// RequestReadTimeout, and returns the connection's first state: with a
// verified client certificate, its principal, "User:" and the
// certificate's subject (RFC 2253, as Kafka's default principal builder
// names it), which a SASL authentication then replaces.
func (s *Server) tlsHandshake(nc net.Conn, needSASL bool) (saslState, error) {
	st := saslState{required: needSASL}
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return st, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestReadTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return st, err
	}
	if chains := tc.ConnectionState().VerifiedChains; len(chains) > 0 && len(chains[0]) > 0 {
		st.certificate = "User:" + chains[0][0].Subject.String()
	}
	return st, nil
}

// serveSASLOutOfPlace answers SaslHandshake and SaslAuthenticate that come
// where no authentication expects them (a listener without SASL, or a
// connection already authenticated whose sessions do not end), as
// Kafka's request handler does: ILLEGAL_SASL_STATE.
func serveSASLOutOfPlace(_ context.Context, _ *Server, req kmsg.Request) kmsg.Response {
	resp := kmsg.ResponseForKey(req.Key())
	resp.SetVersion(req.GetVersion())
	switch r := resp.(type) {
	case *kmsg.SASLHandshakeResponse:
		r.ErrorCode = kerr.IllegalSaslState.Code
	case *kmsg.SASLAuthenticateResponse:
		r.ErrorCode = kerr.IllegalSaslState.Code
	}
	return resp
}

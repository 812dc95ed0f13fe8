// The node's Kafka listeners, as Kafka names them: Config.Listen, the
// shorthand for one, or Config.Listeners, each with its security protocol
// and the address it advertises.

package creek

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/creekmq/creek/internal/kafka"
)

// SecurityProtocol is how a listener's clients connect, by Kafka's names
// (listener.security.protocol.map).
type SecurityProtocol string

// The security protocols.
const (
	// ProtocolPlaintext: no TLS, no authentication.
	ProtocolPlaintext SecurityProtocol = "PLAINTEXT"
	// ProtocolSSL: TLS, and with a verified client certificate (mTLS) its
	// principal.
	ProtocolSSL SecurityProtocol = "SSL"
	// ProtocolSASLPlaintext: SASL authentication, without TLS.
	ProtocolSASLPlaintext SecurityProtocol = "SASL_PLAINTEXT"
	// ProtocolSASLSSL: SASL authentication over TLS.
	ProtocolSASLSSL SecurityProtocol = "SASL_SSL"
)

// usesTLS and usesSASL say what the protocol asks of its clients.
func (p SecurityProtocol) usesTLS() bool  { return p == ProtocolSSL || p == ProtocolSASLSSL }
func (p SecurityProtocol) usesSASL() bool { return p == ProtocolSASLPlaintext || p == ProtocolSASLSSL }

// valid reports whether p is one of the four.
func (p SecurityProtocol) valid() bool {
	return p == ProtocolPlaintext || p.usesTLS() || p.usesSASL()
}

// Listener is one of the node's Kafka listeners (one entry of Kafka's
// listeners, listener.security.protocol.map and advertised.listeners):
// for example plaintext on loopback for the application that embeds the
// node, and SASL_SSL on every address for everyone else. A client is told
// of the cluster's nodes at their addresses on the listener it connected
// to.
type Listener struct {
	// Name names the listener among the node's: letters, digits, '_' and
	// '-', compared without case; every node of a cluster should have the
	// same names. Default the protocol's name.
	Name string
	// Addr is the host:port it listens on; port 0 picks a free port
	// (Node.ListenerAddr reports it).
	Addr string
	// AdvertisedAddr is the host:port clients are told to connect to;
	// default the address listened on.
	AdvertisedAddr string
	// Protocol is its security protocol; default PLAINTEXT.
	Protocol SecurityProtocol
	// TLS is the TLS configuration of an SSL or SASL_SSL listener;
	// default Config.TLS.
	TLS *tls.Config
}

// listenerName is what Kafka takes for a listener name.
var listenerName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// listeners returns the node's listeners, their defaults filled in: the
// one of Config.Listen, named and secured by Config.TLS and Config.SASL,
// or Config.Listeners.
func (c Config) listeners() []Listener {
	if c.Listen != "" {
		p := ProtocolPlaintext
		switch {
		case c.TLS != nil && c.SASL != nil:
			p = ProtocolSASLSSL
		case c.TLS != nil:
			p = ProtocolSSL
		case c.SASL != nil:
			p = ProtocolSASLPlaintext
		}
		return []Listener{{Name: string(p), Addr: c.Listen, AdvertisedAddr: c.AdvertisedAddr, Protocol: p, TLS: c.TLS}}
	}
	out := make([]Listener, len(c.Listeners))
	for i, l := range c.Listeners {
		if l.Protocol == "" {
			l.Protocol = ProtocolPlaintext
		}
		if l.Name == "" {
			l.Name = string(l.Protocol)
		}
		l.Name = strings.ToUpper(l.Name)
		if l.TLS == nil && l.Protocol.usesTLS() {
			l.TLS = c.TLS
		}
		out[i] = l
	}
	return out
}

// validateListeners reports what is wrong with the listeners.
func (c Config) validateListeners() error {
	var errs []error
	if c.Listen != "" && len(c.Listeners) > 0 {
		errs = append(errs, fmt.Errorf("%w: Listen and Listeners: Listen is the shorthand for one listener; name it in Listeners", ErrInvalidConfig))
	}
	if c.AdvertisedAddr != "" && c.Listen == "" {
		errs = append(errs, fmt.Errorf("%w: AdvertisedAddr is Listen's; each of Listeners has its own", ErrInvalidConfig))
	}
	names := map[string]bool{}
	var anyTLS, anySASL bool
	for _, l := range c.listeners() {
		anyTLS, anySASL = anyTLS || l.Protocol.usesTLS(), anySASL || l.Protocol.usesSASL()
		switch {
		case !listenerName.MatchString(l.Name):
			errs = append(errs, fmt.Errorf("%w: listener name %q: letters, digits, '_' and '-'", ErrInvalidConfig, l.Name))
		case names[l.Name]:
			errs = append(errs, fmt.Errorf("%w: two listeners named %s", ErrInvalidConfig, l.Name))
		}
		names[l.Name] = true
		if l.Addr == "" {
			errs = append(errs, fmt.Errorf("%w: listener %s has no Addr", ErrInvalidConfig, l.Name))
		}
		if !l.Protocol.valid() {
			errs = append(errs, fmt.Errorf("%w: listener %s: unknown security protocol %q", ErrInvalidConfig, l.Name, l.Protocol))
		}
		if l.AdvertisedAddr != "" {
			if _, _, err := splitAdvertised(l.AdvertisedAddr); err != nil {
				errs = append(errs, fmt.Errorf("listener %s: %w", l.Name, err))
			}
		}
		if l.Protocol.usesTLS() && (l.TLS == nil || len(l.TLS.Certificates) == 0 && l.TLS.GetCertificate == nil && l.TLS.GetConfigForClient == nil) {
			errs = append(errs, fmt.Errorf("%w: %s listener %s has no TLS certificate", ErrInvalidConfig, l.Protocol, l.Name))
		}
		if l.Protocol.usesSASL() && c.SASL == nil {
			errs = append(errs, fmt.Errorf("%w: %s listener %s needs Config.SASL", ErrInvalidConfig, l.Protocol, l.Name))
		}
	}
	if c.TLS != nil && !anyTLS {
		errs = append(errs, fmt.Errorf("%w: TLS is set but no listener is SSL or SASL_SSL", ErrInvalidConfig))
	}
	if c.SASL != nil && !anySASL {
		errs = append(errs, fmt.Errorf("%w: SASL is set but no listener is SASL_PLAINTEXT or SASL_SSL", ErrInvalidConfig))
	}
	return errors.Join(errs...)
}

// boundListener is a listener with its socket open.
type boundListener struct {
	Listener
	ln net.Listener
}

// advertised returns the address the listener advertises.
func (b boundListener) advertised() string {
	if b.AdvertisedAddr != "" {
		return b.AdvertisedAddr
	}
	return b.ln.Addr().String()
}

// listen opens the sockets of the node's listeners. The node serves on
// them (serve) only once it is whole: a cluster node first joins its
// cluster, with the addresses the sockets got, and requests arriving
// meanwhile wait in the sockets' backlogs.
func (n *Node) listen() ([]boundListener, error) {
	var out []boundListener
	for _, l := range n.cfg.listeners() {
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("listen for Kafka clients on %s (%s): %w", l.Addr, l.Name, err),
				closeListeners(out))
		}
		out = append(out, boundListener{Listener: l, ln: ln})
	}
	return out, nil
}

// serve starts serving the Kafka protocol on the listeners.
func (n *Node) serve(listeners []boundListener) error {
	cfg := kafka.Config{ClusterID: "creek", MaxRequestBytes: n.cfg.MaxRequestBytes,
		QueuedMaxRequestBytes: n.cfg.QueuedMaxRequestBytes, FetchMaxBytes: n.cfg.FetchMaxBytes,
		MaxRequestEntries: n.cfg.MaxRequestEntries, IdleTimeout: n.cfg.IdleTimeout, WriteTimeout: n.cfg.WriteTimeout,
		RequestReadTimeout: n.cfg.RequestReadTimeout, TransactionVersion: n.cfg.TransactionVersion, Logger: n.log}
	if n.cfg.Cluster != nil {
		cfg.NodeID = n.cfg.Cluster.NodeID
	}
	cfg.SASL = n.cfg.SASL.kafkaSASL(n.scram)
	if n.acls != nil {
		cfg.Authorizer = n.acls
	}
	served := make([]kafka.Listener, len(listeners))
	for i, l := range listeners {
		served[i] = kafka.Listener{Name: l.Name, Listener: l.ln, SASL: l.Protocol.usesSASL()}
		if l.Protocol.usesTLS() {
			served[i].Listener = tls.NewListener(l.ln, n.listenerTLS(l.Listener))
		}
		if l.AdvertisedAddr != "" {
			var err error
			if served[i].AdvertisedHost, served[i].AdvertisedPort, err = splitAdvertised(l.AdvertisedAddr); err != nil {
				return err
			}
		}
	}
	n.kafka = kafka.Serve(kafkaBroker{n}, cfg, served...)
	return nil
}

// splitAdvertised splits an advertised address into its host and port.
func splitAdvertised(addr string) (string, int32, error) {
	host, port, err := net.SplitHostPort(addr)
	p, perr := strconv.ParseInt(port, 10, 32)
	if err != nil || perr != nil {
		return "", 0, fmt.Errorf("%w: advertised address %q is not host:port", ErrInvalidConfig, addr)
	}
	return host, int32(p), nil
}

// Addr returns the address the node serves the Kafka protocol on (its
// first listener's), or nil without a listener.
func (n *Node) Addr() net.Addr {
	if n.kafka == nil {
		return nil
	}
	return n.kafka.Addr()
}

// ListenerAddr returns the address the named listener listens on, or nil
// for none.
func (n *Node) ListenerAddr(name string) net.Addr {
	if n.kafka == nil {
		return nil
	}
	for _, l := range n.kafka.Listeners() {
		if strings.EqualFold(l.Name, name) {
			return l.Listener.Addr()
		}
	}
	return nil
}

// closeListeners closes the sockets of listeners.
func closeListeners(listeners []boundListener) error {
	var errs []error
	for _, l := range listeners {
		errs = append(errs, l.ln.Close())
	}
	return errors.Join(errs...)
}

package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// connection is how a client command reaches the brokers: --brokers, and
// for a secured listener TLS (--tls, --tls-ca, --tls-cert and --tls-key
// for a client certificate) and SASL (--sasl-mechanism, --sasl-user, the
// password or token from $CREEK_SASL_PASSWORD, never a flag, so that it
// is in no process listing).
type connection struct {
	brokers                 *string
	tls                     *bool
	tlsCA, tlsCert, tlsKey  *string
	saslMechanism, saslUser *string
}

// connectionFlags adds the connection's flags to fs.
func connectionFlags(fs *flag.FlagSet) *connection {
	return &connection{
		brokers:       brokersFlag(fs),
		tls:           fs.Bool("tls", false, "connect over TLS (implied by --tls-ca and --tls-cert)"),
		tlsCA:         fs.String("tls-ca", "", "trust the brokers' certificates these PEM CAs sign; default the system's"),
		tlsCert:       fs.String("tls-cert", "", "present this PEM client certificate (with --tls-key)"),
		tlsKey:        fs.String("tls-key", "", "the PEM private key of --tls-cert"),
		saslMechanism: fs.String("sasl-mechanism", "", "authenticate with SCRAM-SHA-256, SCRAM-SHA-512, PLAIN or OAUTHBEARER"),
		saslUser:      fs.String("sasl-user", "", "the SASL user; the password, or OAUTHBEARER's token, is $CREEK_SASL_PASSWORD"),
	}
}

// options returns the client options the flags ask for.
func (c *connection) options() ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(strings.Split(*c.brokers, ",")...)}
	if *c.tls || *c.tlsCA != "" || *c.tlsCert != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if *c.tlsCA != "" {
			var err error
			if cfg.RootCAs, err = readCAs("--tls-ca", *c.tlsCA); err != nil {
				return nil, err
			}
		}
		if *c.tlsCert != "" || *c.tlsKey != "" {
			cert, err := tls.LoadX509KeyPair(*c.tlsCert, *c.tlsKey)
			if err != nil {
				return nil, fmt.Errorf("--tls-cert, --tls-key: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if *c.saslMechanism != "" {
		m, err := c.mechanism(os.Getenv("CREEK_SASL_PASSWORD"))
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func (c *connection) mechanism(secret string) (sasl.Mechanism, error) {
	user := *c.saslUser
	switch strings.ToUpper(*c.saslMechanism) {
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: secret}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: secret}.AsSha512Mechanism(), nil
	case "PLAIN":
		return plain.Auth{User: user, Pass: secret}.AsMechanism(), nil
	case "OAUTHBEARER":
		return oauth.Auth{Token: secret}.AsMechanism(), nil
	}
	return nil, fmt.Errorf("--sasl-mechanism %q: SCRAM-SHA-256, SCRAM-SHA-512, PLAIN or OAUTHBEARER", *c.saslMechanism)
}

// readCAs reads the PEM certificates of a flag's file into a pool.
func readCAs(flag, path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %s holds no PEM certificate", flag, path)
	}
	return pool, nil
}

// client connects a franz-go client with opts after the connection's.
func (c *connection) client(opts ...kgo.Opt) (*kgo.Client, error) {
	base, err := c.options()
	if err != nil {
		return nil, err
	}
	return kgo.NewClient(append(base, opts...)...)
}

// admin connects an admin client; close it with its Close.
func (c *connection) admin() (*adminClient, error) {
	cl, err := c.client()
	if err != nil {
		return nil, err
	}
	return &adminClient{Client: kadm.NewClient(cl), raw: cl}, nil
}

// Who may connect to the Kafka listener (issue 17): TLS, and SASL with
// PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER — Kafka's SSL,
// SASL_PLAINTEXT and SASL_SSL listeners.

package creek

import (
	"errors"
	"fmt"
	"time"

	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/sasl"
)

// SASLConfig makes the Kafka listener's clients authenticate before
// anything but ApiVersions, as Kafka's SASL_PLAINTEXT listener does (and
// SASL_SSL with Config.TLS). In-process Producers and Consumers do not
// authenticate.
type SASLConfig struct {
	// Plain checks a PLAIN user's password: the application's own check
	// (a table, a directory); nil disables PLAIN. creek keeps no PLAIN
	// password.
	Plain func(user, password string) bool
	// ScramUsers are the first users of SCRAM-SHA-256 and SCRAM-SHA-512,
	// each with its password, from which the first Open of the node's
	// directory derives their salted SCRAM credentials (4,096 iterations,
	// a random salt each), as Kafka's storage tool adds users when it
	// formats one; it keeps nothing else of the passwords. After that the
	// credentials are the node's, changed with AlterUserScramCredentials
	// (kadm's AlterUserSCRAMs) or Node.SetScramPassword. In a cluster the
	// credentials are the cluster's, in its replicated metadata: the
	// controller's leader seeds them from its ScramUsers once, if the
	// cluster has never had any, and every node authenticates against
	// them. SCRAM is enabled whenever SASL is.
	ScramUsers map[string]string
	// OAuthBearer checks an OAUTHBEARER bearer token (KIP-255) and
	// returns the user it names and when it expires: the application's
	// (a JWT verified against its issuer's keys, a token asked of an
	// introspection endpoint); nil disables OAUTHBEARER. UnsecuredJWT
	// takes unsigned tokens, for tests. A refused token is answered with
	// RFC 7628's invalid_token status. With SessionLifetime a session
	// ends when its token does, if that is sooner.
	OAuthBearer func(token string) (user string, expires time.Time, err error)
	// SessionLifetime, when set, is how long an authentication lasts
	// (connections.max.reauth.ms, KIP-368): clients authenticate again
	// on their connection before it ends; one that does not is closed.
	// Zero: it lasts as long as the connection.
	SessionLifetime time.Duration
}

// scramIterations is the work factor of the credentials Open derives from
// SASLConfig.ScramUsers: Kafka's minimum and its tools' default.
const scramIterations = sasl.MinScramIterations

// kafkaSASL returns the listener's SASL setup, nil without SASLConfig:
// SCRAM-SHA-256 and SCRAM-SHA-512 with the users of scram, and PLAIN with
// the application's check.
func (c *SASLConfig) kafkaSASL(scram *scramStore) *kafka.SASL {
	if c == nil {
		return nil
	}
	out := &kafka.SASL{SessionLifetime: c.SessionLifetime,
		Mechanisms: []string{sasl.ScramSHA256.Name(), sasl.ScramSHA512.Name()}}
	if c.Plain != nil {
		out.Mechanisms = append(out.Mechanisms, sasl.Plain)
	}
	if c.OAuthBearer != nil {
		out.Mechanisms = append(out.Mechanisms, sasl.OAuthBearer)
	}
	out.NewServer = func(mechanism string) sasl.Server {
		if m, ok := sasl.ScramMechanismNamed(mechanism); ok {
			return sasl.NewScram(m, scram.lookup, nil)
		}
		if mechanism == sasl.OAuthBearer {
			return sasl.NewOAuthBearer(c.OAuthBearer)
		}
		return sasl.NewPlain(c.Plain)
	}
	return out
}

// UnsecuredJWT is an SASLConfig.OAuthBearer of unsecured JWTs ("alg"
// "none", no signature), as Kafka's default OAUTHBEARER validator takes
// them: the user is the "sub" claim, and "exp" must be to come. For tests
// and development only: anyone can make such a token.
func UnsecuredJWT(token string) (user string, expires time.Time, err error) {
	return sasl.UnsecuredJWT(time.Now)(token)
}

// validate reports what is wrong with the listener's security settings.
func (c Config) validateSecurity() error {
	var errs []error
	if c.SASL != nil {
		for user := range c.SASL.ScramUsers {
			if user == "" {
				errs = append(errs, fmt.Errorf("%w: SASL.ScramUsers has an empty user name", ErrInvalidConfig))
			}
		}
		if c.SASL.SessionLifetime < 0 {
			errs = append(errs, fmt.Errorf("%w: negative SASL.SessionLifetime %v", ErrInvalidConfig, c.SASL.SessionLifetime))
		}
	}
	return errors.Join(errs...)
}

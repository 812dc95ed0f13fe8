package sasl

import "errors"

// ErrAuthentication is wrapped by every error of an authentication that
// fails or is malformed: Kafka's SASL_AUTHENTICATION_FAILED.
var ErrAuthentication = errors.New("sasl: authentication failed")

// Server is the server side of one authentication by one mechanism.
type Server interface {
	// Step takes the client's next message and returns the answer to
	// send it. Once done, the client is authenticated as user, and out
	// is the last answer (empty when the mechanism has none). An error
	// ends the authentication; so does Step after done.
	Step(in []byte) (out []byte, user string, done bool, err error)
}

// Package sasl is the server side of the SASL mechanisms Kafka clients
// authenticate with (issue 17): PLAIN (RFC 4616) and SCRAM-SHA-256 and
// SCRAM-SHA-512 (RFC 5802, RFC 7677), as Kafka's brokers speak them. It
// parses the client's messages, checks them against credentials a caller
// looks up, and answers; it does no I/O and keeps no secret but the
// salted, hashed credentials SCRAM needs.
//
// A Server steps one authentication: Step takes each message the client
// sends (SaslAuthenticate's auth bytes) and returns the answer, until it
// reports the authentication done with the principal's user name, or an
// error. Every error of a bad or failed authentication wraps
// ErrAuthentication, whose text never holds a password.
package sasl

// Package kafka serves the Kafka wire protocol for a creek node on one
// port. Every request and response is encoded and decoded by
// github.com/twmb/franz-go/pkg/kmsg; this package frames them, checks
// their size and version, and turns each request into calls on a Broker.
//
// A frame is a 4-byte big-endian length and that many bytes. A request's
// bytes begin with its header — API key (int16), version (int16),
// correlation ID (int32), client ID (nullable string), and, for flexible
// versions (KIP-482), tagged fields — then the request body. A response
// frame carries the correlation ID, tagged fields when flexible (never for
// ApiVersions, whose response header is always version 0), then the body.
//
// Requests on one connection are handled one at a time, in order, as Kafka
// brokers do; a client may pipeline them. One file per API serves it,
// named by its key, and says which versions it serves and where it differs
// from Kafka.
package kafka

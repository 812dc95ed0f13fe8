// Package inmemory shows how to test a message flow against creek in
// memory: a small service that turns login requests into replies, tested
// with creektest.Node, with no ports, no files and no sleeps. Run it with
//
//	go test ./examples/inmemory
package inmemory

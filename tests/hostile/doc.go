// Package hostile is creek's black-box suite of hostile clients and
// hostile disks. Its tests build the creek command, start a real
// single-node `creek serve` process on loopback for each case, write some
// records with franz-go, then attack the node: more connections than its
// file descriptor limit, requests built to make it allocate or create
// without bound, frames that never finish, record batches whose CRC is
// right but whose contents lie, compression bombs, a full disk and
// flipped bytes in sealed segments. After each attack a test checks that
// the process is alive, that an ordinary franz-go client can still produce
// and consume, that the records written before are all still readable, and
// that the process's peak resident set (VmHWM) stayed under a bound.
//
// The helpers here (building and running nodes, raw Kafka frames, record
// batches, segment files, /proc figures) carry no test logic; the cases
// live in the _test.go files, one case to a file.
//
//	cd tests/hostile && go test -count=1 -v ./...
package hostile

// Package framefile owns creek's small metadata files: how one is framed,
// and how one is written and read whole.
//
// A framed file is a body under a magic number and a format version, closed
// by a CRC-32C (Castagnoli) of every byte before it. Layout, big-endian:
//
//	+-----------+------------------+------------+-------------+
//	| magic (4) | version (1 or 2) | body (n)   | CRC-32C (4) |
//	+-----------+------------------+------------+-------------+
//
// A Format names one kind of file (the checkpoint, the topic registry, the
// producer snapshot, Raft's stable file, the metadata snapshot): its magic,
// the width of its version field and the versions it reads. Format.Seal
// frames a body; Format.Open checks a frame and returns its version and
// body, or a *CorruptError that names the kind of file. What the body
// holds, and any length field inside it, is the format's own business.
//
// WriteAtomic replaces a file so that a crash leaves the old one or the new
// one, whole; ReadFile reads one back, refusing a file larger than its
// caller allows. Both serve unframed files too.
package framefile

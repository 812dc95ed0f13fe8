package batch

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Kafka's varint and varlong are zig-zag encoded base-128 integers, the
// encoding of encoding/binary.PutVarint. A varint holds an int32 in at most
// 5 bytes, a varlong an int64 in at most 10.

// appendVarint appends v as a Kafka varlong, which for values that fit an
// int32 is also its varint.
func appendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// varintSize returns how many bytes appendVarint uses for v.
func varintSize(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	return (bits.Len64(u|1) + 6) / 7
}

// decoder reads Kafka primitives from b with a sticky error, in the manner
// of franz-go's kbin.Reader: after the first failure every read returns a
// zero value, and bad says why. Reasons are constant strings, so decoding
// allocates nothing until the caller builds an error from them.
type decoder struct {
	b     []byte // input; reads never go past it
	off   int    // bytes consumed so far
	bad   string // why decoding stopped; empty while all is well
	badAt int    // offset where decoding stopped
	// checkOnly walks records' headers without keeping them: what a
	// validation needs, without an allocation for each header's key.
	checkOnly bool
}

// fail stops decoding at the current offset, keeping the first reason. It
// moves off to the end, so that every later read fails without a check of
// its own.
func (d *decoder) fail(reason string) {
	if d.bad == "" {
		d.bad, d.badAt = reason, d.off
	}
	d.off = len(d.b)
}

// left returns the number of bytes not yet read.
func (d *decoder) left() int { return len(d.b) - d.off }

// int8 reads one byte.
func (d *decoder) int8(what string) int8 {
	if d.bad != "" {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail(what)
		return 0
	}
	v := int8(d.b[d.off])
	d.off++
	return v
}

// shortUvarint reads the base-128 integer at b[off] if it takes one byte
// or two, which most of a batch's lengths and deltas do (a 100-byte value's
// length takes two), and reports how many it took; 0 for a longer one, or
// none.
func shortUvarint(b []byte, off int) (uint64, int) {
	if off < len(b) {
		if b0 := uint64(b[off]); b0 < 0x80 {
			return b0, 1
		} else if off+1 < len(b) {
			if b1 := uint64(b[off+1]); b1 < 0x80 {
				return b0&0x7f | b1<<7, 2
			}
		}
	}
	return 0, 0
}

// varlong reads a Kafka varlong.
func (d *decoder) varlong(what string) int64 {
	if u, n := shortUvarint(d.b, d.off); n > 0 {
		d.off += n
		return int64(u>>1) ^ -int64(u&1)
	}
	return d.varlongSlow(what)
}

// varlongSlow reads a varlong of any width.
func (d *decoder) varlongSlow(what string) int64 {
	if d.bad != "" {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.off += n
	return v
}

// varint reads a Kafka varint: at most 5 bytes, its value within an int32.
func (d *decoder) varint(what string) int32 {
	if u, n := shortUvarint(d.b, d.off); n > 0 {
		d.off += n
		return int32(u>>1) ^ -int32(u&1)
	}
	return d.varintSlow(what)
}

// varintSlow reads a varint of any width.
func (d *decoder) varintSlow(what string) int32 {
	if d.bad != "" {
		return 0
	}
	u, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 || n > 5 || u > math.MaxUint32 {
		d.fail(what)
		return 0
	}
	d.off += n
	return int32(uint32(u)>>1) ^ -int32(u&1)
}

// bytes reads a varint length and that many bytes: nil for length -1, an
// empty non-nil slice for 0. The result aliases the input, with its
// capacity cut to its length so that appending to it copies.
func (d *decoder) bytes(what string) []byte {
	n := d.varint(what)
	switch {
	case d.bad != "":
		return nil
	case n == -1:
		return nil
	case n < -1 || int(n) > d.left():
		d.fail(what)
		return nil
	}
	end := d.off + int(n)
	v := d.b[d.off:end:end]
	d.off = end
	return v
}

package batch

import (
	"encoding/binary"
	"math"
	"testing"
)

// The decoder reads every varint and varlong as encoding/binary does, on
// its short path (one or two bytes) and its long one, and fails on one cut
// short whatever its width.
func TestVarintsReadAsEncodingBinary(t *testing.T) {
	values := []int64{0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, -8193, 1 << 20, -(1 << 20),
		math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}
	for v := int64(-20000); v <= 20000; v++ {
		values = append(values, v)
	}
	for _, v := range values {
		b := binary.AppendVarint(nil, v)
		long := decoder{b: b}
		if got := long.varlong("v"); got != v || long.bad != "" || long.off != len(b) {
			t.Fatalf("varlong %d read as %d (%q, %d of %d bytes)", v, got, long.bad, long.off, len(b))
		}
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			d := decoder{b: b}
			if got := d.varint("v"); int64(got) != v || d.bad != "" || d.off != len(b) {
				t.Fatalf("varint %d read as %d (%q, %d of %d bytes)", v, got, d.bad, d.off, len(b))
			}
		}
		for cut := range len(b) {
			short := decoder{b: b[:cut]}
			short.varlong("cut")
			if short.bad == "" {
				t.Fatalf("varlong %d cut to %d of %d bytes read without an error", v, cut, len(b))
			}
			short = decoder{b: b[:cut]}
			short.varint("cut")
			if short.bad == "" {
				t.Fatalf("varint %d cut to %d of %d bytes read without an error", v, cut, len(b))
			}
		}
	}
}

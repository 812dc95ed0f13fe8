package kafka

import (
	"errors"
	"reflect"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DefaultMaxRequestEntries bounds the entries one request names: topics,
// partitions, groups, configs, every repeated element together.
const DefaultMaxRequestEntries = 100_000

// decodeAmplification is what the budget charges a request frame other
// than Produce, per byte, before it is read: such a frame is all
// structure, and decoding it and building its answer take up to this many
// bytes per byte received (a Metadata entry of 2 bytes, an empty topic
// name, decodes to some 50 bytes and answers with some 150). A Produce
// frame is mostly record bytes, which decoding does not copy: it is
// charged what it is, and its entries are counted before it is decoded.
const decodeAmplification = 32

// responseEntryBytes is what the budget charges for each entry a
// request names, held until its answer is written: the entry's share of
// the decoded request and of the response.
const responseEntryBytes = 256

// errTooManyEntries is a request naming more entries than
// MaxRequestEntries.
var errTooManyEntries = errors.New("request names too many entries")

// frameLimits says how large a request frame for an API may be, and what
// the budget charges for it before it is allocated. A frame other than
// Produce whose charge would pass the whole budget is refused: decoding it
// alone could take more memory than the budget allows.
func (s *Server) frameLimits(key int16) (maxBytes int32, perByte int64) {
	if key == int16(kmsg.Produce) {
		return s.cfg.MaxRequestBytes, 1
	}
	return int32(min(int64(s.cfg.MaxRequestBytes), s.cfg.QueuedMaxRequestBytes/decodeAmplification)), decodeAmplification
}

// countEntries counts the elements of the slices of structs in v, down to
// the innermost, stopping once past max.
func countEntries(v reflect.Value, max int) int {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return 0
		}
		return countEntries(v.Elem(), max)
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			if n += countEntries(v.Field(i), max-n); n > max {
				break
			}
		}
		return n
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Struct {
			return 0
		}
		n := v.Len()
		for i := 0; i < v.Len() && n <= max; i++ {
			n += countEntries(v.Index(i), max-n)
		}
		return n
	}
	return 0
}

// holdAfterStart returns what a started request keeps of the budget until
// its response is written, giving back the rest of what its frame took. A
// request other than Produce keeps all of it: its charge covers its
// decoded form and its answer. A Produce gives back its frame, whose
// records are stored by now, and keeps its answer's share, entries ×
// responseEntryBytes, taken without waiting (a request already started
// must not wait on the budget).
func (s *Server) holdAfterStart(key int16, taken int64, entries int) int64 {
	if key != int16(kmsg.Produce) {
		return taken
	}
	held := int64(entries) * responseEntryBytes
	if held <= taken {
		s.requestBytes.release(taken - held)
	} else {
		s.requestBytes.take(held - taken)
	}
	return held
}

package kafka

import (
	"encoding/binary"
	"errors"
)

// errShortProduce is a Produce body that ends inside a field.
var errShortProduce = errors.New("produce request ends early")

// producePartitions counts the partition entries of a Produce request
// body at version, reading only the lengths on the wire: it runs before
// the body is decoded, so that a request naming millions of partitions is
// refused before a struct is allocated for each. It does not check what
// decoding checks; a body it counts may still fail to decode. A body it
// cannot walk is refused, even one the decoder might take: no client
// encodes one.
func producePartitions(body []byte, version int16) (int, error) {
	w := wireWalker{b: body, flexible: version >= 9}
	if version >= 3 {
		w.skipString() // transactional ID
	}
	w.skip(2 + 4) // acks, timeout
	partitions := 0
	for range w.arrayLen() {
		if version >= 13 {
			w.skip(16) // topic ID
		} else {
			w.skipString()
		}
		n := w.arrayLen()
		partitions += n
		for range n {
			w.skip(4) // partition index
			w.skipBytes()
			w.skipTags()
		}
		w.skipTags()
	}
	return partitions, w.err
}

// wireWalker steps over the fields of a request body without decoding
// them. After the first error it does nothing and keeps that error.
type wireWalker struct {
	b        []byte
	flexible bool
	err      error
}

func (w *wireWalker) skip(n int) {
	if w.err != nil {
		return
	}
	if n < 0 || n > len(w.b) {
		w.err, w.b = errShortProduce, nil
		return
	}
	w.b = w.b[n:]
}

func (w *wireWalker) uvarint() uint64 {
	if w.err != nil {
		return 0
	}
	v, n := binary.Uvarint(w.b)
	if n <= 0 {
		w.err, w.b = errShortProduce, nil
		return 0
	}
	w.b = w.b[n:]
	return v
}

func (w *wireWalker) int32() int32 {
	if w.err != nil || len(w.b) < 4 {
		w.skip(4)
		return 0
	}
	v := int32(binary.BigEndian.Uint32(w.b))
	w.b = w.b[4:]
	return v
}

// length reads a compact (uvarint, plus one) or classic length of width
// bytes; -1 is null.
func (w *wireWalker) length(width int) int {
	if w.flexible {
		return int(int32(uint32(w.uvarint())) - 1) // as kmsg reads it: past 2^31 is negative, null
	}
	if width == 2 {
		if w.err != nil || len(w.b) < 2 {
			w.skip(2)
			return 0
		}
		v := int16(binary.BigEndian.Uint16(w.b))
		w.b = w.b[2:]
		return int(v)
	}
	return int(w.int32())
}

func (w *wireWalker) skipString() { w.skip(max(w.length(2), 0)) }
func (w *wireWalker) skipBytes()  { w.skip(max(w.length(4), 0)) }

// arrayLen reads an array's length; null is empty. A length the rest of
// the body cannot hold is an error, as it is to the decoder.
func (w *wireWalker) arrayLen() int {
	n := w.length(4)
	if n > len(w.b) {
		w.err, w.b = errShortProduce, nil
		return 0
	}
	return max(n, 0)
}

func (w *wireWalker) skipTags() {
	if !w.flexible || w.err != nil {
		return
	}
	rest, err := skipTags(w.b)
	if err != nil {
		w.err, w.b = err, nil
		return
	}
	w.b = rest
}

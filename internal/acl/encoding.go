package acl

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/creekmq/creek/internal/framefile"
)

// Marshal encodes bindings, in order, big-endian:
//
//	bindings (4) | per binding: type (1) | pattern (1) | operation (1) |
//	  permission (1) | name length (2) | name | principal length (2) |
//	  principal | host length (2) | host
//
// The caller frames it (its magic, version and CRC are the file's).
// Names, principals and hosts are shorter than 64 KiB: Kafka's strings
// are.
func Marshal(bindings []Binding) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(bindings)))
	for _, x := range bindings {
		b = append(b, byte(x.Type), byte(x.Pattern), byte(x.Operation), byte(x.Permission))
		b = framefile.AppendString16(b, x.Name)
		b = framefile.AppendString16(b, x.Principal)
		b = framefile.AppendString16(b, x.Host)
	}
	return b
}

// EncodedSize returns how many bytes Marshal gives b.
func EncodedSize(b Binding) int { return 4 + 3*2 + len(b.Name) + len(b.Principal) + len(b.Host) }

// Unmarshal decodes what Marshal encodes. Bytes that do not parse, a
// binding that is not valid, or one there twice give an error.
func Unmarshal(b []byte) ([]Binding, error) {
	r := framefile.NewFields(b)
	n := r.Uint32()
	var out []Binding
	seen := map[Binding]bool{}
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		x := Binding{Type: ResourceType(r.Byte()), Pattern: PatternType(r.Byte()),
			Operation: Operation(r.Byte()), Permission: Permission(r.Byte())}
		x.Name, x.Principal, x.Host = r.String16(), r.String16(), r.String16()
		if r.Err() != nil {
			break
		}
		if err := x.Validate(); err != nil {
			return nil, fmt.Errorf("acl: binding %d: %w", i, err)
		}
		if seen[x] {
			return nil, fmt.Errorf("acl: binding %d is there twice", i)
		}
		seen[x] = true
		out = append(out, x)
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("acl: bindings: %w", err)
	}
	if r.Len() != 0 {
		return nil, errors.New("acl: bytes after the last binding")
	}
	return out, nil
}

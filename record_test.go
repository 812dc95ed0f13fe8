package creek

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
)

func TestRecordsRoom(t *testing.T) {
	control, err := batch.Build(batch.BuildOptions{Idempotent: true, ProducerID: 1, Transactional: true, Control: true},
		batch.Record{Key: []byte{0, 0, 0, 1}})
	require.NoError(t, err)
	three, five := testBatch(t, 0, 3, 10, 1), testBatch(t, 3, 5, 10, 1)
	lying := append([]byte(nil), three...)
	lying[57], lying[58], lying[59], lying[60] = 0x7f, 0xff, 0xff, 0xff // NumRecords; recordsRoom reads headers without checking CRCs
	for _, tc := range []struct {
		name  string
		b     []byte
		limit int
		want  int
	}{
		{"none", nil, -1, 0},
		{"one batch", three, -1, 3},
		{"batches", concat(three, five), -1, 8},
		{"limited", concat(three, five), 4, 4},
		{"control batches hold none", concat(control, three), -1, 3},
		{"a count the bytes cannot hold", lying, -1, len(lying)},
		{"a torn batch counts for none", concat(three, five[:20]), -1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, recordsRoom(tc.b, tc.limit))
		})
	}
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

package creek_test

import (
	"os"

	"github.com/creekmq/creek/internal/batch"
)

func tempDir() (string, func()) {
	dir, err := os.MkdirTemp("", "creek-example")
	if err != nil {
		panic(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

// idempotentBatchFor builds the first batch an idempotent producer sends:
// one record at sequence 0 of producer id at epoch.
func idempotentBatchFor(id int64, epoch int16) []byte {
	b, err := batch.Build(batch.BuildOptions{Idempotent: true, ProducerID: id, ProducerEpoch: epoch},
		batch.Record{Value: []byte("pay 10")})
	if err != nil {
		panic(err)
	}
	return b
}

package librdkafka

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the node's listener and its connections stop with
// Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

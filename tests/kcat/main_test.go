package kcat

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the node's listener and connections stop with
// Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

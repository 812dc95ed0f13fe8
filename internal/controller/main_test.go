package controller

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that stopping Raft stops every goroutine it started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

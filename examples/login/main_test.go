package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that closing the application stops every goroutine it
// started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

package creek

import "testing"

// NewTestNode opens a node in memory for a test and closes it when the test
// ends, failing the test if Close fails. Opening one costs microseconds, so
// each test can have its own.
func NewTestNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	cfg.Dir = ""
	n, err := Open(cfg)
	if err != nil {
		t.Fatalf("creek: open test node: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("creek: close test node: %v", err)
		}
	})
	return n
}

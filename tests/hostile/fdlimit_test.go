package hostile

import (
	"context"
	"net"
	"os/exec"
	"testing"
	"time"
)

// fdLimit is the RLIMIT_NOFILE the node runs under, and fdFlood how many
// connections the case opens against it.
const (
	fdLimit = 256
	fdFlood = 400
)

// TestManyConnectionsPastFdLimit: a node whose descriptor limit is 256
// takes 400 connections at once; once they close it accepts new ones and
// serves as before.
func TestManyConnectionsPastFdLimit(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatalf("prlimit (util-linux) is needed to run creek under a low descriptor limit: %v", err)
	}
	c := startCase(t, caseOptions{Wrapper: []string{"prlimit", "--nofile=256:256", "--"}})
	pid := c.node.PID()
	if limit, err := FDLimit(pid); err != nil || limit != fdLimit {
		t.Fatalf("creek runs with a descriptor limit of %d (%v), want %d", limit, err, fdLimit)
	}
	t.Logf("creek holds %d descriptors under a limit of %d before the flood", must(OpenFDs(pid)), fdLimit)

	var conns []net.Conn
	var dialErrs int
	var firstErr error
	d := net.Dialer{Timeout: 5 * time.Second}
	for range fdFlood {
		nc, err := d.DialContext(t.Context(), "tcp", c.node.Addr())
		if err != nil {
			dialErrs++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		conns = append(conns, nc)
	}
	t.Logf("opened %d of %d connections (%d dials failed, first: %v)", len(conns), fdFlood, dialErrs, firstErr)
	// The node has taken what it could once its descriptor count stops
	// growing at the limit or every connection is in.
	_ = waitFor(t.Context(), 10*time.Second, func(context.Context) (bool, error) {
		n, err := OpenFDs(pid)
		return err == nil && n >= min(fdLimit, len(conns)), err
	})
	t.Logf("creek holds %d descriptors with the flood open", must(OpenFDs(pid)))
	if err := c.node.Alive(); err != nil {
		t.Fatalf("with %d connections open: %v", len(conns), err)
	}
	for _, nc := range conns {
		nc.Close()
	}
	// It must accept new connections again: a Kafka request on a fresh
	// connection is answered.
	err := waitFor(t.Context(), 30*time.Second, func(ctx context.Context) (bool, error) {
		conn, err := DialRaw(ctx, c.node.Addr())
		if err != nil {
			return false, err
		}
		defer conn.Close()
		_, err = LatestOffset(conn, topic, 0)
		return err == nil, err
	})
	if err != nil {
		t.Errorf("after the flood closed creek does not serve a new connection: %v", err)
	}
	t.Logf("creek holds %d descriptors after the flood closed", must(OpenFDs(pid)))
	warns := c.node.Grep("cannot accept")
	t.Logf("creek logged %d accept warnings", len(warns))
	c.afterChecks(peakRSSBound)
}

// Members proven to be nodes (issue 17): with node identities, a gossip
// member counts as a member of the cluster — admitted to the controller,
// placed replicas, listed to clients — only once a TLS handshake with its
// Raft listener showed a certificate of the cluster's CAs for its
// address. The gossip key alone makes no node.

package creek

import (
	"context"
	"sync"
	"time"

	"github.com/creekmq/creek/internal/membership"
)

// verifyRetry is how long a member whose identity could not be verified
// waits before it is tried again.
const verifyRetry = time.Second

// verifyTimeout bounds one verification's dial and handshake.
const verifyTimeout = 5 * time.Second

// memberKey is one life of a member at one Raft address: a restart, or a
// move, is verified anew.
type memberKey struct {
	node        int32
	incarnation uint64
	raftAddr    string
}

// identityChecks verifies the gossip members' identities in the
// background, and tells which are verified.
type identityChecks struct {
	n      *Node
	cancel context.CancelFunc // ends a verification under way at close

	mu       sync.Mutex
	verified map[memberKey]bool // of the members gossip reported last
	changed  chan struct{}      // closed, and replaced, after each pass over the members

	wg sync.WaitGroup
}

// startIdentityChecks starts verifying the members gossip reports.
func (n *Node) startIdentityChecks() *identityChecks {
	ctx, cancel := context.WithCancel(context.Background())
	ic := &identityChecks{n: n, cancel: cancel, verified: map[memberKey]bool{}, changed: make(chan struct{})}
	ic.wg.Add(1)
	go ic.run(ctx)
	return ic
}

// run verifies each member not verified yet whenever gossip's members
// change, and again after verifyRetry while some are not, and after each
// pass tells those waiting on Changed: a member verified, or gone.
func (ic *identityChecks) run(ctx context.Context) {
	defer ic.wg.Done()
	for {
		gossiped := ic.n.members.Changed()
		var retry <-chan time.Time
		if !ic.verifyAll(ctx, ic.n.members.Members()) {
			retry = time.After(verifyRetry)
		}
		ic.mu.Lock()
		close(ic.changed)
		ic.changed = make(chan struct{})
		ic.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-gossiped:
		case <-retry:
		}
	}
}

// verifyAll verifies the members not verified yet, forgets those gone,
// and reports whether every member is verified.
func (ic *identityChecks) verifyAll(ctx context.Context, members []membership.Member) bool {
	all := true
	current := map[memberKey]bool{}
	for _, m := range members {
		k := memberKey{m.NodeID, m.Incarnation, m.RaftAddr}
		if ic.isVerified(k) {
			current[k] = true
			continue
		}
		if err := ic.verify(ctx, m); err != nil {
			if ctx.Err() == nil {
				ic.n.log.Warn("cluster member not verified as a node: no certificate of the cluster's CAs",
					"node", m.NodeID, "raft", m.RaftAddr, "err", err)
			}
			all = false
			continue
		}
		current[k] = true
		ic.mu.Lock()
		ic.verified[k] = true // at once: the members verified so far count before the pass ends
		ic.mu.Unlock()
	}
	ic.mu.Lock()
	ic.verified = current
	ic.mu.Unlock()
	return all
}

// verify handshakes with m's Raft listener as this node dials the others,
// which checks m's certificate for its address against the cluster's
// CAs. This node is itself.
func (ic *identityChecks) verify(ctx context.Context, m membership.Member) error {
	if m.NodeID == ic.n.nodeID() && m.Incarnation == ic.n.incarnation {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	conn, err := ic.n.nodeDialer()(ctx, "tcp", m.RaftAddr)
	if err != nil {
		return err
	}
	return conn.Close()
}

func (ic *identityChecks) isVerified(k memberKey) bool {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return ic.verified[k]
}

// filter returns the verified of members.
func (ic *identityChecks) filter(members []membership.Member) []membership.Member {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	out := members[:0:0]
	for _, m := range members {
		if ic.verified[memberKey{m.NodeID, m.Incarnation, m.RaftAddr}] {
			out = append(out, m)
		}
	}
	return out
}

// Changed returns a channel closed when a member is next verified.
func (ic *identityChecks) Changed() <-chan struct{} {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return ic.changed
}

// close stops the checks.
func (ic *identityChecks) close() {
	ic.cancel()
	ic.wg.Wait()
}

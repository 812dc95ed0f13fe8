package hostile

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// The held-frames case: heldConns connections each declare a frame of
// heldDeclared bytes and send heldSent of it.
const (
	heldConns    = 10
	heldDeclared = 100 * MiB
	heldSent     = 99 * MiB
	heldChunk    = 1 * MiB
	// heldStall is how long one chunk's write may block before the
	// connection counts as held back by the node.
	heldStall = 5 * time.Second
)

// heldOutcome is how one held connection's writing ended.
type heldOutcome int

const (
	heldAllSent heldOutcome = iota // every byte of heldSent went out
	heldStalled                    // the node stopped reading it
	heldClosed                     // the node closed or reset it
)

// TestHeldPartialFrames: 10 connections each send 99 MiB of a declared
// 100 MiB frame and hold; while they hold, the node's RSS stays under the
// bound and a normal client works; after they close, the node still
// serves.
func TestHeldPartialFrames(t *testing.T) {
	c := startCase(t, caseOptions{})
	conns := make([]*RawConn, heldConns)
	for i := range conns {
		conns[i] = c.dial()
	}
	outcomes := make([]heldOutcome, heldConns)
	sent := make([]int64, heldConns)
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Go(func() { outcomes[i], sent[i] = holdFrame(conn) })
	}
	wg.Wait()
	var all, stalled, closed int
	var total int64
	for i, o := range outcomes {
		total += sent[i]
		switch o {
		case heldAllSent:
			all++
		case heldStalled:
			stalled++
		case heldClosed:
			closed++
		}
	}
	rss, _ := RSS(c.node.PID())
	t.Logf("held frames: %d connections sent all %d MiB, %d were stalled by the node, %d closed by it; %.0f MiB sent in all; creek RSS now %.1f MiB",
		all, heldSent/MiB, stalled, closed, float64(total)/MiB, float64(rss)/MiB)
	t.Log("while the frames are held:")
	c.afterChecks(peakRSSBound)
	for _, conn := range conns {
		conn.Close()
	}
	t.Log("after the held connections closed:")
	c.afterChecks(peakRSSBound)
}

// holdFrame writes the size prefix of a heldDeclared-byte frame, a Produce
// request header and then zeros, heldSent bytes in all, a chunk at a time,
// and says how that ended and how much went out.
func holdFrame(conn *RawConn) (heldOutcome, int64) {
	buf := make([]byte, heldChunk)
	binary.BigEndian.PutUint32(buf, uint32(heldDeclared))
	AppendRequestHeader(buf[4:4], 0, ProduceVersion, conn.NextCorrelationID(), ClientID, false)
	var sent int64
	for sent < heldSent {
		n := min(int64(len(buf)), heldSent-sent)
		conn.Conn().SetWriteDeadline(time.Now().Add(heldStall))
		w, err := conn.Conn().Write(buf[:n])
		sent += int64(w)
		clear(buf[:min(len(buf), 64)])
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded):
			conn.Conn().SetWriteDeadline(time.Time{})
			return heldStalled, sent
		default:
			return heldClosed, sent
		}
	}
	conn.Conn().SetWriteDeadline(time.Time{})
	return heldAllSent, sent
}

// The controller's Raft address, kept across restarts.

package creek

import (
	"net"
	"path/filepath"

	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
)

// raftAddrFile, in the controller's directory, keeps the Raft address a
// node bound when it was given a free port (":0").
const raftAddrFile = "raft-address"

// listenRaft listens for the controller's Raft on addr. When addr asks for
// a free port, a restarted node takes the one it had before, so the Raft
// configuration still names it: a node whose address changed must be
// re-admitted by a leader with a majority, and when two of three nodes
// restart at once on new ports no majority can reach either of them.
// Kept in the directory of the Raft state, it goes with that state.
func listenRaft(fs fsx.FS, dir, addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != "0" {
		return net.Listen("tcp", addr)
	}
	if b, err := framefile.ReadFile(fs, filepath.Join(dir, raftAddrFile), 256); err == nil {
		if h, _, err := net.SplitHostPort(string(b)); err == nil && h == host {
			if ln, err := net.Listen("tcp", string(b)); err == nil {
				return ln, nil
			}
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := framefile.WriteAtomic(fs, dir, raftAddrFile, []byte(ln.Addr().String())); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

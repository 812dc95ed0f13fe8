package controller

import (
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"
)

// maxSnapshotBytes bounds a snapshot read back from Raft.
const maxSnapshotBytes = 256 << 20

// FSM is the metadata as hashicorp/raft's finite state machine: Raft
// applies each committed command to it, on every node, in log order.
type FSM struct {
	mu      sync.RWMutex
	meta    *Metadata
	changed chan struct{} // closed, and replaced, at every applied command
}

// NewFSM returns an FSM with empty metadata.
func NewFSM() *FSM {
	return &FSM{meta: &Metadata{Topics: map[string]*Topic{}}, changed: make(chan struct{})}
}

var _ raft.FSM = (*FSM)(nil)

// Apply applies one committed entry and returns Apply's error, or nil. A
// command that does not decode is rejected the same way on every node.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	c, err := DecodeCommand(l.Data)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.meta.Clone() // readers keep the metadata they were given
	if err = next.Apply(c); err == nil {
		f.meta = next
	}
	close(f.changed)
	f.changed = make(chan struct{})
	return err
}

// Metadata returns the metadata as applied so far. It is shared and never
// changes: callers must not modify it (Clone gives a copy to change).
func (f *FSM) Metadata() *Metadata {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.meta
}

// Changed returns a channel closed when the next command is applied.
func (f *FSM) Changed() <-chan struct{} {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.changed
}

// Snapshot captures the metadata for Raft to compact its log.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, err := EncodeSnapshot(f.meta)
	return snapshot(b), err
}

// Restore replaces the metadata with a snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSnapshotBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxSnapshotBytes {
		return fmt.Errorf("%w: larger than %d bytes", ErrBadSnapshot, maxSnapshotBytes)
	}
	m, err := DecodeSnapshot(b)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.meta = m
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

// snapshot is an encoded snapshot waiting to be written.
type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		return errorsJoin(err, sink.Cancel())
	}
	return sink.Close()
}

func (snapshot) Release() {}

func errorsJoin(a, b error) error {
	if b == nil {
		return a
	}
	return fmt.Errorf("%w (and %v)", a, b)
}

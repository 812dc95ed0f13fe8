package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Events prints what a run does as it happens, each line stamped with the
// time since the run began, so a failing seed's story can be read back.
type Events struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

// NewEvents prints to w, stamping times from now.
func NewEvents(w io.Writer) *Events { return &Events{w: w, start: time.Now()} }

// Printf prints one event line.
func (e *Events) Printf(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Fprintf(e.w, "[%7.2fs] %s\n", time.Since(e.start).Seconds(), fmt.Sprintf(format, args...))
}

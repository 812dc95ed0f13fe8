// Package fsx is creek's file system: one small interface with three
// implementations, so that the log runs the same code in memory, on disk and
// under injected faults.
//
//   - OS() is the operating system's file system.
//   - NewMem() keeps files in memory. Its CrashClone keeps only what was
//     synced, as a machine that loses power would, so tests can check that
//     everything acknowledged survives a crash.
//   - Inject wraps another FS and fails chosen operations: an error, a short
//     write, a full disk.
//
// The interface holds only what the log needs. Files are written with
// WriteAt at positions their owner tracks, never through a shared cursor, so
// that readers and the appender can share one handle.
package fsx

import (
	"errors"
	"io"
	"os"
)

// FS is a file system. Paths use the host's separator; implementations other
// than OS treat them as opaque strings cleaned with filepath.Clean.
type FS interface {
	// OpenFile opens name with os.O_* flags (O_RDONLY, O_RDWR, O_CREATE,
	// O_EXCL, O_TRUNC are honoured; O_APPEND is not supported).
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string, perm os.FileMode) error
	// ReadDir returns the names of the entries in dir, sorted.
	ReadDir(dir string) ([]string, error)
	// Stat returns a file's size and mode. A missing file gives an error
	// matching os.ErrNotExist.
	Stat(name string) (os.FileInfo, error)
	// SyncDir makes the creation, removal and renaming of entries in dir
	// durable.
	SyncDir(dir string) error
}

// File is an open file.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Name returns the path the file was opened with.
	Name() string
	// Sync makes the file's written bytes durable.
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Size returns the file's current size.
	Size() (int64, error)
}

// ErrInjected is the error returned by an operation that Inject chose to fail.
var ErrInjected = errors.New("fsx: injected fault")

// Open opens name for reading.
func Open(fs FS, name string) (File, error) { return fs.OpenFile(name, os.O_RDONLY, 0) }

// Create creates or truncates name for reading and writing.
func Create(fs FS, name string) (File, error) {
	return fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// Exists reports whether name exists. Errors other than "not exist" count as
// existing, so that a caller goes on to open the file and sees the real error.
func Exists(fs FS, name string) bool {
	_, err := fs.Stat(name)
	return !errors.Is(err, os.ErrNotExist)
}

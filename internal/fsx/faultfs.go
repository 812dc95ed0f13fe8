package fsx

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
)

// OpKind names a file system operation that Inject can fail.
type OpKind int

// The operations Inject numbers and may fail.
const (
	OpOpen OpKind = iota
	OpRemove
	OpRename
	OpMkdirAll
	OpReadDir
	OpStat
	OpSyncDir
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpSize
	OpClose
)

var opNames = [...]string{"open", "remove", "rename", "mkdir", "readdir", "stat", "syncdir",
	"read", "write", "sync", "truncate", "size", "close"}

// String names the operation as messages do.
func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}

// Op is one operation, numbered in call order from 0.
type Op struct {
	Kind  OpKind
	Path  string
	Index int64 // how many operations ran before this one
	Len   int   // bytes, for a write
}

// Fault is what an Injector does to an operation. The zero Fault lets it
// run.
type Fault struct {
	Err error
	// ShortWrite, for a write with Err set, writes this many bytes before
	// failing, as a disk that fills up mid-write does.
	ShortWrite int
}

// Injector decides which operations fail. It is called from many goroutines
// at once when the file system is shared.
type Injector interface {
	Inject(op Op) Fault
}

// InjectorFunc adapts a function to an Injector.
type InjectorFunc func(Op) Fault

// Inject calls f.
func (f InjectorFunc) Inject(op Op) Fault { return f(op) }

// InjectedError is the error of a failed operation. It matches ErrInjected
// unless the Injector gave another error.
type InjectedError struct {
	Op  Op
	Err error
}

// Error names the operation and the path the fault struck.
func (e *InjectedError) Error() string {
	return fmt.Sprintf("fsx: %s %s (op %d): %v", e.Op.Kind, e.Op.Path, e.Op.Index, e.Err)
}

// Unwrap returns the injected error.
func (e *InjectedError) Unwrap() error { return e.Err }

// FailAt fails operation i, whatever its kind, and lets every other run:
// a test that fails each operation in turn, i = 0, 1, 2 ..., until the
// workload succeeds, checks every error path once.
func FailAt(i int64) Injector {
	return InjectorFunc(func(op Op) Fault {
		if op.Index == i {
			return Fault{Err: ErrInjected}
		}
		return Fault{}
	})
}

// FailAfter fails operation i and every one after it: a disk that died, or
// a process that crashed at that point (pair it with Mem.CrashClone).
func FailAfter(i int64) Injector {
	return InjectorFunc(func(op Op) Fault {
		if op.Index >= i {
			return Fault{Err: ErrInjected}
		}
		return Fault{}
	})
}

// ShortWriteAt makes the i-th write (counting writes only, from 0) write n
// bytes and fail.
func ShortWriteAt(i int64, n int) Injector {
	var writes atomic.Int64
	return InjectorFunc(func(op Op) Fault {
		if op.Kind == OpWrite && writes.Add(1)-1 == i {
			return Fault{Err: ErrInjected, ShortWrite: min(n, op.Len)}
		}
		return Fault{}
	})
}

// SyncErrorAt fails the i-th Sync or SyncDir (counting those only, from 0).
func SyncErrorAt(i int64) Injector {
	var syncs atomic.Int64
	return InjectorFunc(func(op Op) Fault {
		if (op.Kind == OpSync || op.Kind == OpSyncDir) && syncs.Add(1)-1 == i {
			return Fault{Err: ErrInjected}
		}
		return Fault{}
	})
}

// DiskFull lets writes put limit bytes in all, then fails with ENOSPC,
// writing what still fits first. The error matches syscall.ENOSPC, not
// ErrInjected, as a real full disk's would.
func DiskFull(limit int64) Injector {
	var written atomic.Int64
	return InjectorFunc(func(op Op) Fault {
		if op.Kind != OpWrite {
			return Fault{}
		}
		total := written.Add(int64(op.Len))
		if total <= limit {
			return Fault{}
		}
		fits := max(int64(op.Len)-(total-limit), 0)
		written.Add(fits - int64(op.Len))
		return Fault{Err: syscall.ENOSPC, ShortWrite: int(fits)}
	})
}

// Injected is a file system whose operations an Injector may fail.
type Injected struct {
	fs  FS
	inj Injector
	ops atomic.Int64
}

// Inject wraps fs so that inj sees, and may fail, every operation.
func Inject(fs FS, inj Injector) *Injected { return &Injected{fs: fs, inj: inj} }

// Ops returns how many operations have run.
func (x *Injected) Ops() int64 { return x.ops.Load() }

func (x *Injected) check(kind OpKind, path string, n int) (Fault, error) {
	op := Op{Kind: kind, Path: path, Index: x.ops.Add(1) - 1, Len: n}
	f := x.inj.Inject(op)
	if f.Err == nil {
		return f, nil
	}
	return f, &InjectedError{Op: op, Err: f.Err}
}

// OpenFile is FS's, after the Injector lets it run.
func (x *Injected) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if _, err := x.check(OpOpen, name, 0); err != nil {
		return nil, err
	}
	f, err := x.fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &injectedFile{File: f, x: x}, nil
}

// Remove is FS's, after the Injector lets it run.
func (x *Injected) Remove(name string) error {
	if _, err := x.check(OpRemove, name, 0); err != nil {
		return err
	}
	return x.fs.Remove(name)
}

// Rename is FS's, after the Injector lets it run.
func (x *Injected) Rename(oldname, newname string) error {
	if _, err := x.check(OpRename, oldname, 0); err != nil {
		return err
	}
	return x.fs.Rename(oldname, newname)
}

// MkdirAll is FS's, after the Injector lets it run.
func (x *Injected) MkdirAll(dir string, perm os.FileMode) error {
	if _, err := x.check(OpMkdirAll, dir, 0); err != nil {
		return err
	}
	return x.fs.MkdirAll(dir, perm)
}

// ReadDir is FS's, after the Injector lets it run.
func (x *Injected) ReadDir(dir string) ([]string, error) {
	if _, err := x.check(OpReadDir, dir, 0); err != nil {
		return nil, err
	}
	return x.fs.ReadDir(dir)
}

// Stat is FS's, after the Injector lets it run.
func (x *Injected) Stat(name string) (os.FileInfo, error) {
	if _, err := x.check(OpStat, name, 0); err != nil {
		return nil, err
	}
	return x.fs.Stat(name)
}

// SyncDir is FS's, after the Injector lets it run.
func (x *Injected) SyncDir(dir string) error {
	if _, err := x.check(OpSyncDir, dir, 0); err != nil {
		return err
	}
	return x.fs.SyncDir(dir)
}

type injectedFile struct {
	File
	x *Injected
}

func (f *injectedFile) ReadAt(p []byte, off int64) (int, error) {
	if _, err := f.x.check(OpRead, f.Name(), len(p)); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *injectedFile) WriteAt(p []byte, off int64) (int, error) {
	fault, err := f.x.check(OpWrite, f.Name(), len(p))
	if err == nil {
		return f.File.WriteAt(p, off)
	}
	n := 0
	if fault.ShortWrite > 0 {
		n, _ = f.File.WriteAt(p[:fault.ShortWrite], off)
	}
	return n, err
}

func (f *injectedFile) Sync() error {
	if _, err := f.x.check(OpSync, f.Name(), 0); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *injectedFile) Truncate(size int64) error {
	if _, err := f.x.check(OpTruncate, f.Name(), 0); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *injectedFile) Size() (int64, error) {
	if _, err := f.x.check(OpSize, f.Name(), 0); err != nil {
		return 0, err
	}
	return f.File.Size()
}

// Close closes the file even when the close is failed, as the OS does: the
// descriptor is gone whatever close returns.
func (f *injectedFile) Close() error {
	_, err := f.x.check(OpClose, f.Name(), 0)
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}

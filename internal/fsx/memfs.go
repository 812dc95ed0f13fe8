package fsx

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Mem is an in-memory FS, safe for concurrent use. Handles opened on the
// same file share its bytes, like an inode; a removed or renamed file stays
// usable through its open handles.
//
// Mem models what survives a power cut strictly, as pebble's strict MemFS
// does: a file's durable bytes are those of its last Sync, and a directory's
// durable entries are those of its last SyncDir. CrashClone keeps only
// those. Directories made by MkdirAll are durable at once: the log creates
// its directory once, and modelling that too would test nothing of the log.
type Mem struct {
	mu   sync.Mutex
	dirs map[string]*memDir
}

type memDir struct {
	entries map[string]*memInode // what a listing shows now
	durable map[string]*memInode // as of the last SyncDir
}

type memInode struct {
	mu      sync.RWMutex
	data    []byte
	durable []byte // as of the last Sync
	modTime time.Time
}

// NewMem returns an empty memory file system holding the root directory.
func NewMem() *Mem {
	m := &Mem{dirs: map[string]*memDir{}}
	m.dirs[string(filepath.Separator)] = newMemDir()
	m.dirs["."] = newMemDir()
	return m
}

func newMemDir() *memDir {
	return &memDir{entries: map[string]*memInode{}, durable: map[string]*memInode{}}
}

// CrashClone returns a new, independent Mem holding only what m had made
// durable: the entries of each directory as of its last SyncDir, and the
// bytes of each file as of its last Sync.
func (m *Mem) CrashClone() *Mem {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &Mem{dirs: map[string]*memDir{}}
	clones := map[*memInode]*memInode{}
	for path, d := range m.dirs {
		cd := newMemDir()
		for name, ino := range d.durable {
			clone, ok := clones[ino]
			if !ok {
				ino.mu.RLock()
				clone = &memInode{data: slices.Clone(ino.durable), durable: slices.Clone(ino.durable), modTime: ino.modTime}
				ino.mu.RUnlock()
				clones[ino] = clone
			}
			cd.entries[name] = clone
			cd.durable[name] = clone
		}
		c.dirs[path] = cd
	}
	return c
}

// split returns the directory and base name of a cleaned path.
func split(name string) (dir, base string) {
	name = filepath.Clean(name)
	return filepath.Dir(name), filepath.Base(name)
}

// OpenFile is FS's: flags as os.OpenFile's, for files in memory.
func (m *Mem) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dirName, base := split(name)
	if _, isDir := m.dirs[filepath.Clean(name)]; isDir {
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	}
	dir, ok := m.dirs[dirName]
	if !ok {
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	ino, exists := dir.entries[base]
	switch {
	case exists && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case !exists && flag&os.O_CREATE == 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case !exists:
		ino = &memInode{modTime: time.Now()}
		dir.entries[base] = ino
	}
	writable := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if flag&os.O_TRUNC != 0 && writable {
		ino.mu.Lock()
		ino.data = ino.data[:0:0]
		ino.mu.Unlock()
	}
	return &memFile{name: name, ino: ino, readable: flag&os.O_WRONLY == 0, writable: writable}, nil
}

// Remove is FS's.
func (m *Mem) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	clean := filepath.Clean(name)
	if _, isDir := m.dirs[clean]; isDir {
		if len(m.dirs[clean].entries) > 0 || m.hasSubdirLocked(clean) {
			return &os.PathError{Op: "remove", Path: name, Err: errNotEmpty}
		}
		delete(m.dirs, clean)
		return nil
	}
	dirName, base := split(name)
	dir, ok := m.dirs[dirName]
	if !ok || dir.entries[base] == nil {
		return &os.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(dir.entries, base)
	return nil
}

var errNotEmpty = &fs.PathError{Op: "remove", Err: os.ErrInvalid}

func (m *Mem) hasSubdirLocked(dir string) bool {
	for path := range m.dirs {
		if path != dir && filepath.Dir(path) == dir {
			return true
		}
	}
	return false
}

// Rename is FS's.
func (m *Mem) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	oldDir, oldBase := split(oldname)
	newDir, newBase := split(newname)
	from, ok := m.dirs[oldDir]
	if !ok || from.entries[oldBase] == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	to, ok := m.dirs[newDir]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	ino := from.entries[oldBase]
	delete(from.entries, oldBase)
	to.entries[newBase] = ino
	return nil
}

// MkdirAll is FS's.
func (m *Mem) MkdirAll(dir string, perm os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, ok := m.dirs[d]; ok {
			break
		}
		parent, base := split(d)
		if p, ok := m.dirs[parent]; ok && p.entries[base] != nil {
			return &os.PathError{Op: "mkdir", Path: d, Err: fs.ErrExist} // a file is in the way
		}
		m.dirs[d] = newMemDir()
	}
	return nil
}

// ReadDir is FS's.
func (m *Mem) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	clean := filepath.Clean(dir)
	d, ok := m.dirs[clean]
	if !ok {
		return nil, &os.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	names := make([]string, 0, len(d.entries))
	for name := range d.entries {
		names = append(names, name)
	}
	for path := range m.dirs {
		if path != clean && filepath.Dir(path) == clean {
			names = append(names, filepath.Base(path))
		}
	}
	sort.Strings(names)
	return names, nil
}

// Stat is FS's.
func (m *Mem) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.dirs[filepath.Clean(name)]; ok {
		return memInfo{name: filepath.Base(name), dir: true}, nil
	}
	dirName, base := split(name)
	if d, ok := m.dirs[dirName]; ok {
		if ino := d.entries[base]; ino != nil {
			ino.mu.RLock()
			defer ino.mu.RUnlock()
			return memInfo{name: base, size: int64(len(ino.data)), modTime: ino.modTime}, nil
		}
	}
	return nil, &os.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

// SyncDir is FS's.
func (m *Mem) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.dirs[filepath.Clean(dir)]
	if !ok {
		return &os.PathError{Op: "sync", Path: dir, Err: fs.ErrNotExist}
	}
	d.durable = make(map[string]*memInode, len(d.entries))
	for name, ino := range d.entries {
		d.durable[name] = ino
	}
	return nil
}

type memFile struct {
	name               string
	ino                *memInode
	readable, writable bool
	closed             atomic.Bool
}

func (f *memFile) Name() string { return f.name }

func (f *memFile) check(op string, want bool) error {
	if f.closed.Load() {
		return &os.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
	}
	if !want {
		return &os.PathError{Op: op, Path: f.name, Err: os.ErrPermission}
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read", f.readable); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: os.ErrInvalid}
	}
	if len(p) == 0 {
		return 0, nil // as os.File does
	}
	f.ino.mu.RLock()
	defer f.ino.mu.RUnlock()
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check("write", f.writable); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &os.PathError{Op: "write", Path: f.name, Err: os.ErrInvalid}
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(f.ino.data)) {
		f.ino.data = growTo(f.ino.data, end)
	}
	copy(f.ino.data[off:], p)
	f.ino.modTime = time.Now()
	return len(p), nil
}

// growTo extends b with zeros to size, doubling capacity so that appends
// cost amortised constant time.
func growTo(b []byte, size int64) []byte {
	if int64(cap(b)) >= size {
		old := len(b)
		b = b[:size]
		clear(b[old:])
		return b
	}
	bigger := make([]byte, size, max(size, 2*int64(cap(b))))
	copy(bigger, b)
	return bigger
}

func (f *memFile) Sync() error {
	if err := f.check("sync", true); err != nil {
		return err
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	f.ino.durable = slices.Clone(f.ino.data)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	if err := f.check("truncate", f.writable); err != nil {
		return err
	}
	if size < 0 {
		return &os.PathError{Op: "truncate", Path: f.name, Err: os.ErrInvalid}
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	if size <= int64(len(f.ino.data)) {
		f.ino.data = f.ino.data[:size]
	} else {
		f.ino.data = growTo(f.ino.data, size)
	}
	return nil
}

func (f *memFile) Size() (int64, error) {
	if err := f.check("stat", true); err != nil {
		return 0, err
	}
	f.ino.mu.RLock()
	defer f.ino.mu.RUnlock()
	return int64(len(f.ino.data)), nil
}

func (f *memFile) Close() error {
	if f.closed.Swap(true) {
		return &os.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	return nil
}

type memInfo struct {
	name    string
	size    int64
	dir     bool
	modTime time.Time
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) ModTime() time.Time { return i.modTime }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
func (i memInfo) Mode() os.FileMode {
	if i.dir {
		return os.ModeDir | 0o755
	}
	return 0o644
}

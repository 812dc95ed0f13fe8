package fsx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// forEachFS runs fn on the OS (in a temporary directory) and on Mem, so that
// Mem is held to the operating system's behaviour.
func forEachFS(t *testing.T, fn func(t *testing.T, fs FS, dir string)) {
	t.Run("os", func(t *testing.T) { fn(t, OS(), t.TempDir()) })
	t.Run("mem", func(t *testing.T) {
		m := NewMem()
		require.NoError(t, m.MkdirAll("/tmp/x", 0o755))
		fn(t, m, "/tmp/x")
	})
}

func writeFile(t *testing.T, fs FS, path, content string) File {
	t.Helper()
	f, err := Create(fs, path)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte(content), 0)
	require.NoError(t, err)
	return f
}

func TestReadWrite(t *testing.T) {
	forEachFS(t, func(t *testing.T, fs FS, dir string) {
		path := filepath.Join(dir, "a")
		f := writeFile(t, fs, path, "hello")
		defer f.Close()
		_, err := f.WriteAt([]byte("XY"), 8) // past the end: a hole of zeros
		require.NoError(t, err)
		size, err := f.Size()
		require.NoError(t, err)
		assert.Equal(t, int64(10), size)

		buf := make([]byte, 10)
		n, err := f.ReadAt(buf, 0)
		require.NoError(t, err)
		assert.Equal(t, "hello\x00\x00\x00XY", string(buf[:n]))

		n, err = f.ReadAt(buf, 7)
		assert.Equal(t, 3, n)
		assert.ErrorIs(t, err, io.EOF, "a read past the end returns what there is and EOF")
		n, err = f.ReadAt(buf, 50)
		assert.Zero(t, n)
		assert.ErrorIs(t, err, io.EOF)
		n, err = f.ReadAt(nil, 50)
		assert.Zero(t, n)
		assert.NoError(t, err, "an empty read is no error, as on the OS")

		require.NoError(t, f.Truncate(3))
		n, _ = f.ReadAt(buf, 0)
		assert.Equal(t, "hel", string(buf[:n]))
		require.NoError(t, f.Truncate(5))
		n, _ = f.ReadAt(buf, 0)
		assert.Equal(t, "hel\x00\x00", string(buf[:n]), "growing by truncation adds zeros, not old bytes")
		require.NoError(t, f.Sync())
	})
}

func TestOpenFlags(t *testing.T) {
	forEachFS(t, func(t *testing.T, fs FS, dir string) {
		path := filepath.Join(dir, "a")
		_, err := Open(fs, path)
		require.ErrorIs(t, err, os.ErrNotExist)
		_, err = fs.OpenFile(filepath.Join(dir, "missing", "a"), os.O_RDWR|os.O_CREATE, 0o644)
		require.ErrorIs(t, err, os.ErrNotExist, "no directory, no file")

		require.NoError(t, writeFile(t, fs, path, "hello").Close())
		_, err = fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		require.ErrorIs(t, err, os.ErrExist)

		r, err := Open(fs, path)
		require.NoError(t, err)
		_, err = r.WriteAt([]byte("x"), 0)
		assert.Error(t, err, "a read-only handle cannot write")
		require.NoError(t, r.Close())
		_, err = r.ReadAt(make([]byte, 1), 0)
		assert.ErrorIs(t, err, os.ErrClosed)

		f, err := fs.OpenFile(path, os.O_RDWR|os.O_TRUNC, 0)
		require.NoError(t, err)
		size, err := f.Size()
		require.NoError(t, err)
		assert.Zero(t, size, "O_TRUNC empties the file")
		require.NoError(t, f.Close())
		assert.True(t, Exists(fs, path))
		assert.False(t, Exists(fs, path+"x"))
	})
}

func TestDirectoryOperations(t *testing.T) {
	forEachFS(t, func(t *testing.T, fs FS, dir string) {
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		fa := writeFile(t, fs, a, "A")
		require.NoError(t, writeFile(t, fs, b, "B").Close())
		require.NoError(t, fs.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o755))

		names, err := fs.ReadDir(dir)
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b", "sub"}, names)
		_, err = fs.ReadDir(filepath.Join(dir, "none"))
		require.ErrorIs(t, err, os.ErrNotExist)

		require.NoError(t, fs.Rename(a, b), "rename replaces")
		names, _ = fs.ReadDir(dir)
		assert.Equal(t, []string{"b", "sub"}, names)
		fi, err := fs.Stat(b)
		require.NoError(t, err)
		assert.Equal(t, int64(1), fi.Size())
		assert.False(t, fi.IsDir())

		require.NoError(t, fs.Remove(b))
		buf := make([]byte, 1)
		_, err = fa.ReadAt(buf, 0)
		require.NoError(t, err, "an open handle outlives its name")
		assert.Equal(t, "A", string(buf))
		require.NoError(t, fa.Close())
		require.ErrorIs(t, fs.Remove(b), os.ErrNotExist)
		_, err = fs.Stat(b)
		require.ErrorIs(t, err, os.ErrNotExist)
		require.NoError(t, fs.SyncDir(dir))
	})
}

func TestCrashClone(t *testing.T) {
	m := NewMem()
	require.NoError(t, m.MkdirAll("/d", 0o755))
	synced := writeFile(t, m, "/d/synced", "durable")
	require.NoError(t, synced.Sync())
	require.NoError(t, m.SyncDir("/d"))
	_, err := synced.WriteAt([]byte(" and more"), 7) // never synced
	require.NoError(t, err)

	unlisted := writeFile(t, m, "/d/unlisted", "x")
	require.NoError(t, unlisted.Sync())

	require.NoError(t, writeFile(t, m, "/d/old", "o").Sync())
	require.NoError(t, m.SyncDir("/d"))
	require.NoError(t, m.Rename("/d/old", "/d/new")) // not made durable

	c := m.CrashClone()
	names, err := c.ReadDir("/d")
	require.NoError(t, err)
	// "unlisted" became durable with the second SyncDir; the rename did not.
	assert.Equal(t, []string{"old", "synced", "unlisted"}, names, "a rename without SyncDir is undone")

	f, err := Open(c, "/d/synced")
	require.NoError(t, err)
	size, _ := f.Size()
	assert.Equal(t, int64(len("durable")), size, "unsynced bytes are lost")
	require.NoError(t, f.Close())

	// The clone is independent of the original.
	g, err := c.OpenFile("/d/synced", os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = g.WriteAt([]byte("CHANGED"), 0)
	require.NoError(t, err)
	buf := make([]byte, 7)
	_, err = synced.ReadAt(buf, 0)
	require.NoError(t, err)
	assert.Equal(t, "durable", string(buf))
	require.NoError(t, errors.Join(g.Close(), synced.Close(), unlisted.Close()))
}

func TestCrashCloneForgetsUnsyncedEntries(t *testing.T) {
	m := NewMem()
	require.NoError(t, m.MkdirAll("/d", 0o755))
	f := writeFile(t, m, "/d/new", "x")
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	names, err := m.CrashClone().ReadDir("/d")
	require.NoError(t, err)
	assert.Empty(t, names, "a file whose directory was never synced is gone")

	require.NoError(t, m.SyncDir("/d"))
	require.NoError(t, m.Remove("/d/new"))
	names, err = m.CrashClone().ReadDir("/d")
	require.NoError(t, err)
	assert.Equal(t, []string{"new"}, names, "a remove without SyncDir is undone")
}

func TestInjectors(t *testing.T) {
	t.Run("FailAt", func(t *testing.T) {
		x := Inject(NewMem(), FailAt(1))
		require.NoError(t, x.MkdirAll("/d", 0o755))
		_, err := x.ReadDir("/d")
		var injected *InjectedError
		require.ErrorAs(t, err, &injected)
		assert.Equal(t, OpReadDir, injected.Op.Kind)
		assert.Equal(t, int64(1), injected.Op.Index)
		require.ErrorIs(t, err, ErrInjected)
		_, err = x.ReadDir("/d")
		require.NoError(t, err, "only operation 1 fails")
		assert.Equal(t, int64(3), x.Ops())
	})
	t.Run("FailAfter", func(t *testing.T) {
		x := Inject(NewMem(), FailAfter(1))
		require.NoError(t, x.MkdirAll("/d", 0o755))
		require.ErrorIs(t, x.SyncDir("/d"), ErrInjected)
		require.ErrorIs(t, x.MkdirAll("/e", 0o755), ErrInjected, "every later operation fails")
	})
	t.Run("ShortWriteAt", func(t *testing.T) {
		m := NewMem()
		x := Inject(m, ShortWriteAt(1, 2))
		f, err := Create(x, "/a")
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("abc"), 0)
		require.NoError(t, err)
		n, err := f.WriteAt([]byte("defg"), 3)
		require.ErrorIs(t, err, ErrInjected)
		assert.Equal(t, 2, n)
		size, _ := f.Size()
		assert.Equal(t, int64(5), size, "the short write left its first bytes")
		require.NoError(t, f.Close())
	})
	t.Run("SyncErrorAt", func(t *testing.T) {
		x := Inject(NewMem(), SyncErrorAt(1))
		f, err := Create(x, "/a")
		require.NoError(t, err)
		require.NoError(t, f.Sync())
		require.ErrorIs(t, x.SyncDir("/"), ErrInjected)
		require.NoError(t, f.Sync())
		require.NoError(t, f.Close())
	})
	t.Run("DiskFull", func(t *testing.T) {
		x := Inject(NewMem(), DiskFull(5))
		f, err := Create(x, "/a")
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("abc"), 0)
		require.NoError(t, err)
		n, err := f.WriteAt([]byte("defg"), 3)
		require.ErrorIs(t, err, syscall.ENOSPC)
		assert.Equal(t, 2, n, "what fits is written")
		_, err = f.WriteAt([]byte("h"), 5)
		require.ErrorIs(t, err, syscall.ENOSPC, "the disk stays full")
		require.NoError(t, f.Close())
	})
}

package framefile

// file.go owns writing a small file atomically and reading it back whole.

import (
	"cmp"
	"fmt"
	"io"
	"path/filepath"

	"github.com/creekmq/creek/internal/fsx"
)

// TempSuffix ends the name of the temporary file WriteAtomic writes before
// its rename; a crash can leave one behind, which recovery removes.
const TempSuffix = ".tmp"

// WriteAtomic replaces dir/name with data so that a crash leaves either the
// old file or the new one, whole: write a temporary file, sync it, rename
// it over the old one, sync the directory (etcd's wal.Create does the
// same). WriteAtomic does not retain data. Errors name the path.
func WriteAtomic(fs fsx.FS, dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	tmp := path + TempSuffix
	f, err := fsx.Create(fs, tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, path)
	}
	if err == nil {
		err = fs.SyncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadFile returns the whole of a small file, at most limit bytes: a longer
// file is an error rather than an allocation of whatever size it has. A
// missing file's error matches os.ErrNotExist.
func ReadFile(fs fsx.FS, path string, limit int64) ([]byte, error) {
	f, err := fsx.Open(fs, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", path, size, limit)
	}
	b := make([]byte, size)
	if n, err := f.ReadAt(b, 0); int64(n) < size {
		return nil, fmt.Errorf("read %s: %w", path, cmp.Or(err, io.ErrUnexpectedEOF))
	}
	return b, nil
}

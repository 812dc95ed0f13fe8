package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/creekmq/creek"
)

// errDamaged reports a data directory with damage left unrepaired.
var errDamaged = errors.New("damaged logs found; run again with --repair to cut them at the damage")

// check reads every partition log of a stopped node's data directory,
// reports each one's batches and damage, and with --repair cuts each
// damaged segment at its first damaged batch (creek.RepairLog).
func check(_ context.Context, args []string, io streams) error {
	fs := newFlags("check", io)
	data := fs.String("data", "", "the data directory of a stopped node")
	repair := fs.Bool("repair", false, "cut each damaged segment at its damage, losing the rest of that segment")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("--data is required")
	}
	dirs, err := logDirs(*data)
	if err != nil {
		return err
	}
	inspect := creek.CheckLog
	if *repair {
		inspect = creek.RepairLog
	}
	damaged := 0
	for _, dir := range dirs {
		c, err := inspect(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		name, _ := filepath.Rel(*data, dir)
		if len(c.Damage) == 0 {
			fmt.Fprintf(io.out, "ok       %s: %d segments, %d batches, %d bytes\n", name, c.Segments, c.Batches, c.Bytes)
			continue
		}
		damaged++
		for _, d := range c.Damage {
			verb := "DAMAGED "
			if *repair {
				verb = "REPAIRED"
			}
			fmt.Fprintf(io.out, "%s %s: %s at byte %d: %s; %d bytes after it\n", verb, name,
				filepath.Base(d.Path), d.Position, d.Reason, d.LostBytes)
		}
	}
	fmt.Fprintf(io.out, "%d logs, %d damaged\n", len(dirs), damaged)
	if damaged > 0 && !*repair {
		return errDamaged
	}
	return nil
}

// logDirs returns the directories under root that hold log segments.
func logDirs(root string) ([]string, error) {
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".log") {
			seen[filepath.Dir(path)] = true
		}
		return nil
	})
	dirs := make([]string, 0, len(seen))
	for dir := range seen {
		dirs = append(dirs, dir)
	}
	sort.Strings(dirs)
	return dirs, err
}

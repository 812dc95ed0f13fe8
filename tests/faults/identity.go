package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// DirSnapshot is the identity of one partition directory's segment files
// at one moment.
type DirSnapshot struct {
	Files    map[string]uint64 // segment file name → inode
	LogStart int64             // the partition's log start offset then; -1 unknown
}

// lowest is the name of the directory's lowest segment, "" if none.
func (d DirSnapshot) lowest() string {
	low := ""
	for name := range d.Files {
		if low == "" || name < low {
			low = name
		}
	}
	return low
}

// NodeSnapshot is a node's partition directories at one moment.
type NodeSnapshot struct {
	Label string // when it was taken, for a human
	Dirs  map[int32]DirSnapshot
}

// SnapshotNode records the inode of every segment log file of every
// faults-<p> directory under dir; logStart gives partitions' log start
// offsets where known.
func SnapshotNode(dir, label string, logStart map[int32]int64) (NodeSnapshot, error) {
	s := NodeSnapshot{Label: label, Dirs: map[int32]DirSnapshot{}}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	for _, e := range entries {
		m := partitionDir.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		p, _ := strconv.Atoi(m[1])
		pdir := filepath.Join(dir, e.Name())
		names, err := segmentNames(pdir)
		if err != nil {
			return s, err
		}
		d := DirSnapshot{Files: map[string]uint64{}, LogStart: -1}
		if ls, ok := logStart[int32(p)]; ok {
			d.LogStart = ls
		}
		for _, name := range names {
			fi, err := os.Stat(filepath.Join(pdir, name))
			if err != nil {
				if os.IsNotExist(err) { // removed between the listing and now
					continue
				}
				return s, err
			}
			d.Files[name] = fi.Sys().(*syscall.Stat_t).Ino
		}
		s.Dirs[int32(p)] = d
	}
	return s, nil
}

// CompareSnapshots finds node's partition files re-created between the
// snapshots prev and cur: a segment file present in both under one name
// but with another inode, or prev's lowest segment gone from cur although
// the log start did not move (unknown counts as not moved).
func CompareSnapshots(node int, prev, cur NodeSnapshot) []Anomaly {
	var found []Anomaly
	for _, p := range sortedKeys(prev.Dirs) {
		before := prev.Dirs[p]
		after, ok := cur.Dirs[p]
		if !ok {
			after = DirSnapshot{LogStart: -1}
		}
		for name, ino := range before.Files {
			if now, ok := after.Files[name]; ok && now != ino {
				found = append(found, Anomaly{KindRecreated, p, baseOffset(name), fmt.Sprintf(
					"node %d: %s re-created between %s and %s (inode %d, now %d)", node, name, prev.Label, cur.Label, ino, now)})
			}
		}
		low := before.lowest()
		if low == "" {
			continue
		}
		moved := before.LogStart >= 0 && after.LogStart >= 0 && after.LogStart > before.LogStart
		if _, ok := after.Files[low]; !ok && !moved {
			found = append(found, Anomaly{KindRecreated, p, baseOffset(low), fmt.Sprintf(
				"node %d: lowest segment %s gone between %s and %s, the log start unmoved", node, low, prev.Label, cur.Label)})
		}
	}
	return found
}

// baseOffset is a segment file name's base offset.
func baseOffset(name string) int64 {
	n, _ := strconv.ParseInt(name[:20], 10, 64)
	return n
}

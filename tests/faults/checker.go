package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
)

// Position is an offset in a partition of the topic.
type Position struct {
	Partition int32
	Offset    int64
}

// Ack is a record the producer had acknowledged, where it was acknowledged.
type Ack struct {
	Position
	Value string
}

// Change is a position where the consumer, having seen First, later saw
// Later.
type Change struct {
	Position
	First, Later string
}

// Record is a value at an offset, as one source (the Kafka read, or a
// replica's files) holds it.
type Record struct {
	Offset int64
	Value  string
}

// Anomaly kinds, as the result line names them.
const (
	KindLost            = "lost"
	KindMoved           = "moved"
	KindDuplicated      = "duplicated"
	KindDiverged        = "diverged"
	KindConsumerChanged = "consumer_changed"
	KindRecreated       = "recreated"
	KindLogFlood        = "log_flood"
)

// Anomaly is one thing the checker found wrong.
type Anomaly struct {
	Kind      string
	Partition int32
	Offset    int64
	Detail    string
}

// String describes the anomaly for a human.
func (a Anomaly) String() string {
	return fmt.Sprintf("%s p%d@%d: %s", a.Kind, a.Partition, a.Offset, a.Detail)
}

// Observations is everything a run collected for the checker.
type Observations struct {
	Acks []Ack
	// Read is the final read through Kafka, per partition, up to
	// HighWatermarks.
	Read           map[int32][]Record
	HighWatermarks map[int32]int64
	// Replicas holds each node's segment files' records, per partition.
	Replicas map[int]map[int32][]Record
	// Assignment lists each partition's replicas (node IDs); a replica
	// with no files for its partition lacks every record. Nil: the nodes
	// that have files are the replicas.
	Assignment      map[int32][]int32
	ConsumerSeen    map[Position]string
	ConsumerChanged []Change
	Recreated       []Anomaly
	// Incomplete holds partitions the final read did not finish, with the
	// offset it reached: positions from there on cannot be judged lost,
	// moved or changed.
	Incomplete map[int32]int64
}

// judged reports whether the final read covers pos.
func judged(incomplete map[int32]int64, pos Position) bool {
	reached, ok := incomplete[pos.Partition]
	return !ok || pos.Offset < reached
}

// CheckAcks finds acknowledged records whose value the final read lacks
// (lost) or holds only at other offsets (moved); an ack the read did not
// reach counts as neither unless its value was found elsewhere.
func CheckAcks(acks []Ack, read map[int32][]Record, incomplete map[int32]int64) (lost, moved []Anomaly) {
	where := map[int32]map[string][]int64{}
	for p, recs := range read {
		where[p] = valueOffsets(recs)
	}
	for _, a := range acks {
		offsets := where[a.Partition][a.Value]
		if len(offsets) == 0 && !judged(incomplete, a.Position) {
			continue
		}
		switch {
		case len(offsets) == 0:
			lost = append(lost, Anomaly{KindLost, a.Partition, a.Offset, fmt.Sprintf("%q acknowledged, not in the read", a.Value)})
		case !slices.Contains(offsets, a.Offset):
			moved = append(moved, Anomaly{KindMoved, a.Partition, a.Offset, fmt.Sprintf("%q acknowledged here, read at %v", a.Value, offsets)})
		}
	}
	return lost, moved
}

// valueOffsets maps each value of recs to the distinct offsets holding it,
// in ascending order.
func valueOffsets(recs []Record) map[string][]int64 {
	m := map[string][]int64{}
	for _, r := range recs {
		if !slices.Contains(m[r.Value], r.Offset) {
			m[r.Value] = append(m[r.Value], r.Offset)
		}
	}
	for _, offs := range m {
		slices.Sort(offs)
	}
	return m
}

// CheckDuplicates finds acknowledged values held at more than one offset,
// by the Kafka read or by any one replica's files; each value counts once.
func CheckDuplicates(acks []Ack, read map[int32][]Record, replicas map[int]map[int32][]Record) []Anomaly {
	ackedValues := map[string]Ack{}
	for _, a := range acks {
		ackedValues[a.Value] = a
	}
	reported := map[string]bool{}
	var found []Anomaly
	look := func(source string, p int32, recs []Record) {
		for v, offs := range valueOffsets(recs) {
			a, ok := ackedValues[v]
			if !ok || len(offs) < 2 || reported[v] || a.Partition != p {
				continue
			}
			reported[v] = true
			found = append(found, Anomaly{KindDuplicated, p, a.Offset, fmt.Sprintf("%q at offsets %v in %s", v, offs, source)})
		}
	}
	for _, p := range sortedKeys(read) {
		look("the Kafka read", p, read[p])
	}
	for _, node := range sortedKeys(replicas) {
		for _, p := range sortedKeys(replicas[node]) {
			look(fmt.Sprintf("node %d's files", node), p, replicas[node][p])
		}
	}
	return found
}

// CheckDivergence compares, for every offset below a partition's high
// watermark, every replica's files with the Kafka read: a replica holding
// another value, two values, or none where the read has one, diverges.
// Each position counts once.
func CheckDivergence(read map[int32][]Record, hw map[int32]int64, replicas map[int]map[int32][]Record, assignment map[int32][]int32) []Anomaly {
	var found []Anomaly
	for _, p := range sortedKeys(hw) {
		want := map[int64]string{}
		for _, r := range read[p] {
			want[r.Offset] = r.Value
		}
		holders := map[int]map[int64][]string{} // node → offset → distinct values
		var nodes []int
		if assignment != nil {
			for _, id := range assignment[p] {
				nodes = append(nodes, int(id))
			}
		} else {
			for _, node := range sortedKeys(replicas) {
				if _, ok := replicas[node][p]; ok {
					nodes = append(nodes, node)
				}
			}
		}
		for _, node := range nodes {
			held := map[int64][]string{}
			for _, r := range replicas[node][p] {
				if r.Offset < hw[p] && !slices.Contains(held[r.Offset], r.Value) {
					held[r.Offset] = append(held[r.Offset], r.Value)
				}
			}
			holders[node] = held
		}
		for off := int64(0); off < hw[p]; off++ {
			w, inRead := want[off]
			var why []string
			others := map[string]int{} // where the read has nothing: the replicas' values
			for _, node := range nodes {
				vals := holders[node][off]
				switch {
				case len(vals) > 1:
					why = append(why, fmt.Sprintf("node %d holds %q", node, vals))
				case !inRead && len(vals) == 1:
					others[vals[0]] = node
				case len(vals) == 0 && inRead:
					why = append(why, fmt.Sprintf("node %d lacks %q", node, w))
				case len(vals) == 1 && vals[0] != w:
					why = append(why, fmt.Sprintf("node %d holds %q, the read %q", node, vals[0], w))
				}
			}
			if len(others) > 1 {
				why = append(why, fmt.Sprintf("the read has nothing, replicas differ: %v", others))
			}
			if len(why) > 0 {
				found = append(found, Anomaly{KindDiverged, p, off, fmt.Sprint(why)})
			}
		}
	}
	return found
}

// CheckConsumer finds positions where the consumer saw a value change, or
// first saw a value the final read does not hold there; each counts once.
func CheckConsumer(seen map[Position]string, changed []Change, read map[int32][]Record, incomplete map[int32]int64) []Anomaly {
	final := map[Position]string{}
	for p, recs := range read {
		for _, r := range recs {
			final[Position{p, r.Offset}] = r.Value
		}
	}
	bad := map[Position]string{}
	for _, c := range changed {
		if _, ok := bad[c.Position]; !ok {
			bad[c.Position] = fmt.Sprintf("consumer saw %q, then %q", c.First, c.Later)
		}
	}
	for pos, v := range seen {
		if _, ok := bad[pos]; ok {
			continue
		}
		f, ok := final[pos]
		if !ok && !judged(incomplete, pos) {
			continue
		}
		switch {
		case !ok:
			bad[pos] = fmt.Sprintf("consumer saw %q, the final read has nothing", v)
		case f != v:
			bad[pos] = fmt.Sprintf("consumer saw %q, the final read %q", v, f)
		}
	}
	found := make([]Anomaly, 0, len(bad))
	for pos, why := range bad {
		found = append(found, Anomaly{KindConsumerChanged, pos.Partition, pos.Offset, why})
	}
	sortAnomalies(found)
	return found
}

// Check runs every check over the observations.
func Check(o Observations) map[string][]Anomaly {
	lost, moved := CheckAcks(o.Acks, o.Read, o.Incomplete)
	return map[string][]Anomaly{
		KindLost:            lost,
		KindMoved:           moved,
		KindDuplicated:      CheckDuplicates(o.Acks, o.Read, o.Replicas),
		KindDiverged:        CheckDivergence(o.Read, o.HighWatermarks, o.Replicas, o.Assignment),
		KindConsumerChanged: CheckConsumer(o.ConsumerSeen, o.ConsumerChanged, o.Read, o.Incomplete),
		KindRecreated:       o.Recreated,
	}
}

// sortAnomalies orders anomalies by partition, then offset.
func sortAnomalies(a []Anomaly) {
	sort.Slice(a, func(i, j int) bool {
		if a[i].Partition != a[j].Partition {
			return a[i].Partition < a[j].Partition
		}
		return a[i].Offset < a[j].Offset
	})
}

// sortedKeys returns m's keys in order: partitions, node IDs.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K { return slices.Sorted(maps.Keys(m)) }

package main

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// LogFloodLimit is the most lines with one message a node may print
// within one second.
const LogFloodLimit = 10

// Flood is the worst burst of one message in one node's log.
type Flood struct {
	Node  int
	Count int       // lines with Msg in the second starting at At
	Msg   string    // the message
	At    time.Time // the second
}

// logMsg returns a slog text line's msg value: msg="..." or msg=word.
func logMsg(line string) (string, bool) {
	i := strings.Index(line, " msg=")
	if i < 0 {
		if !strings.HasPrefix(line, "msg=") {
			return "", false
		}
		i = -1
	}
	rest := line[i+len(" msg="):]
	if strings.HasPrefix(rest, `"`) {
		quoted, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return "", false
		}
		msg, err := strconv.Unquote(quoted)
		return msg, err == nil
	}
	if end := strings.IndexByte(rest, ' '); end >= 0 {
		rest = rest[:end]
	}
	return rest, true
}

// logTime returns a slog text line's time= value, or at when it has none.
func logTime(line string, at time.Time) time.Time {
	if !strings.HasPrefix(line, "time=") {
		return at
	}
	v := line[len("time="):]
	if end := strings.IndexByte(v, ' '); end >= 0 {
		v = v[:end]
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return at
	}
	return t
}

// MaxFlood finds the largest number of lines with the same message that
// lines holds within one second (by the line's own time, else when it was
// read), over windows starting at each line.
func MaxFlood(node int, lines []LogLine) Flood {
	byMsg := map[string][]time.Time{}
	for _, l := range lines {
		msg, ok := logMsg(l.Text)
		if !ok {
			continue
		}
		byMsg[msg] = append(byMsg[msg], logTime(l.Text, l.At))
	}
	worst := Flood{Node: node}
	for msg, times := range byMsg {
		slices.SortFunc(times, time.Time.Compare)
		for i, j := 0, 0; j < len(times); j++ {
			for times[j].Sub(times[i]) >= time.Second {
				i++
			}
			if n := j - i + 1; n > worst.Count {
				worst = Flood{Node: node, Count: n, Msg: msg, At: times[i]}
			}
		}
	}
	return worst
}

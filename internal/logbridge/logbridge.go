// Package logbridge passes the logs of the libraries creek's cluster runs
// on — hashicorp/raft, its transport and snapshot store (hclog), and
// memberlist (a standard library logger) — to the node's slog.Logger, at
// warnings and up, so that elections, transport failures and gossip
// troubles reach an operator. Before, they went to io.Discard.
package logbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// MinLevel is the least severe line passed on.
const MinLevel = slog.LevelWarn

// HCLog returns an hclog.Logger named name that writes to l.
func HCLog(l *slog.Logger, name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Warn, Output: hclogWriter{l},
		JSONFormat: true, DisableTime: true})
}

// hclogWriter decodes hclog's JSON lines into slog records.
type hclogWriter struct{ l *slog.Logger }

func (w hclogWriter) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		fields := map[string]any{}
		if err := json.Unmarshal(line, &fields); err != nil {
			w.l.Warn(strings.TrimSpace(string(line))) // not JSON: pass it on as it is
			continue
		}
		msg, _ := fields["@message"].(string)
		level := hclogLevel(fields["@level"])
		var attrs []slog.Attr
		if module, ok := fields["@module"].(string); ok {
			attrs = append(attrs, slog.String("module", module))
		}
		for k, v := range fields {
			if !strings.HasPrefix(k, "@") {
				attrs = append(attrs, slog.Any(k, v))
			}
		}
		w.l.LogAttrs(context.Background(), level, msg, attrs...)
	}
	return len(p), nil
}

func hclogLevel(v any) slog.Level {
	switch v {
	case "trace", "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "error":
		return slog.LevelError
	}
	return slog.LevelWarn
}

// StdLog returns a standard library logger, as memberlist takes, whose
// lines ("[WARN] memberlist: ...") go to l at their level; those below
// MinLevel are dropped.
func StdLog(l *slog.Logger) *log.Logger { return log.New(stdWriter{l}, "", 0) }

type stdWriter struct{ l *slog.Logger }

// stdLevels are the bracketed levels memberlist writes.
var stdLevels = map[string]slog.Level{"[DEBUG]": slog.LevelDebug, "[INFO]": slog.LevelInfo,
	"[WARN]": slog.LevelWarn, "[ERR]": slog.LevelError, "[ERROR]": slog.LevelError}

func (w stdWriter) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		text := strings.TrimSpace(string(line))
		level := slog.LevelWarn
		if tag, rest, ok := strings.Cut(text, " "); ok {
			if l, known := stdLevels[tag]; known {
				level, text = l, rest
			}
		}
		if level < MinLevel {
			continue
		}
		module, msg, ok := strings.Cut(text, ": ")
		if !ok || strings.Contains(module, " ") {
			module, msg = "", text
		}
		if module != "" {
			w.l.Log(context.Background(), level, msg, "module", module)
		} else {
			w.l.Log(context.Background(), level, msg)
		}
	}
	return len(p), nil
}

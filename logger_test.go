package creek

import (
	"io"
	"log/slog"
	"os"
)

// discardLogger is the tests' logger: silent, unless CREEK_TEST_LOG is set,
// when every node logs at debug level to stderr.
func discardLogger() *slog.Logger {
	if os.Getenv("CREEK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

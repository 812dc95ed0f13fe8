package creek

import (
	"io"
	"log/slog"
	"os"
	"runtime/pprof"

	"github.com/twmb/franz-go/pkg/kgo"
)

// discardLogger is the tests' logger: silent, unless CREEK_TEST_LOG is set,
// when every node logs at debug level to stderr.
func discardLogger() *slog.Logger {
	if os.Getenv("CREEK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// kgoTestLogger logs a franz-go client at info level to stderr when
// CREEK_TEST_LOG is set.
func kgoTestLogger() kgo.Opt {
	if os.Getenv("CREEK_TEST_LOG") == "" {
		return kgo.WithLogger(nil)
	}
	return kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgoTestLevel(), func() string { return "kgo " }))
}

// dumpGoroutines writes every goroutine's stack to stderr when
// CREEK_TEST_LOG is set, for a test about to fail on a stall.
func dumpGoroutines() {
	if os.Getenv("CREEK_TEST_LOG") != "" {
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
	}
}

// kgoTestLevel is franz-go's log level in tests: debug when
// CREEK_TEST_LOG is "debug", else info.
func kgoTestLevel() kgo.LogLevel {
	if os.Getenv("CREEK_TEST_LOG") == "debug" {
		return kgo.LogLevelDebug
	}
	return kgo.LogLevelInfo
}

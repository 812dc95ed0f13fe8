// Command creek runs a creek broker that Kafka clients reach on one port.
//
//	creek serve --data ./creek-data --listen 127.0.0.1:9092
//
// With --data empty the broker keeps everything in memory.
package main

import (
	"fmt"
	"os"
)

const usage = `creek: Kafka's model as a Go library, and this broker.

Usage:
  creek serve [--data DIR] [--listen HOST:PORT] [--advertised HOST:PORT]

Commands:
  serve   run a broker; Kafka clients connect to --listen (SIGINT or SIGTERM stops it)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "creek: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "creek:", err)
		os.Exit(1)
	}
}

// Command creek runs a creek broker, and speaks the Kafka protocol to any
// broker — creek or Kafka — to manage topics and groups, produce, consume
// and measure.
//
//	creek serve --data ./creek-data --listen 127.0.0.1:9092
//	creek topic create logins --partitions 3
//	echo 'alice:hello' | creek produce logins --key-separator :
//	creek consume logins --from beginning --count 1
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `creek: Kafka's model as a Go library; this command runs a broker and talks to any.

Usage:
  creek serve   [--data DIR] [--listen HOST:PORT] [--advertised HOST:PORT] [--auto-create-topics]
                [--tls-cert F --tls-key F [--tls-client-ca F]] [--sasl-users F] [--sasl-oauth-unsecured]
                [--acl [--super-users User:A,...] [--allow-if-no-acl]]
                [--node-id N --gossip HOST:PORT [--seeds HOST:PORT,...]]     a node of a cluster
  creek topic   create|list|describe|delete|alter ...   [--brokers HOST:PORT,...]
  creek produce TOPIC [--key-separator SEP] [--header K=V]...       one record per stdin line
  creek consume TOPIC [--from beginning|end|OFFSET|RFC3339-TIME] [--group G] [--count N] [--format F]
                [--isolation read_uncommitted|read_committed]
  creek group   list|describe|reset-offsets|delete ...
  creek partition reassign TOPIC --partition N --replicas ID,... | reassignments | elect-leaders [TOPIC]
  creek user    set|delete|list [USER] [--mechanism SCRAM-SHA-256|SCRAM-SHA-512|both]  (set: password on stdin)
  creek acl     add|delete|list [--principal User:U] [--operation OP,...] [--deny] [--host H]
                [--topic T|--group G|--transactional-id X|--cluster] [--pattern literal|prefixed]
  creek bench   [--topic T] [--records N] [--size BYTES] [--partitions P]
  creek check   --data DIR [--repair]      check a stopped node's logs; cut damaged segments

Client commands reach --brokers (default 127.0.0.1:9092, or $CREEK_BROKERS), over TLS with --tls
(--tls-ca, --tls-cert, --tls-key) and authenticated with --sasl-mechanism and --sasl-user, the
password or token in $CREEK_SASL_PASSWORD.
Run "creek COMMAND --help" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err == errUsage {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "creek:", err)
		os.Exit(1)
	}
}

// errUsage reports a command line that could not be understood; the
// usage has been printed.
var errUsage = fmt.Errorf("usage")

// run runs one command line; tests call it with their own streams.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	io := streams{in: stdin, out: stdout, err: stderr}
	commands := map[string]func(context.Context, []string, streams) error{
		"serve": serve, "topic": topicCommand, "produce": produce, "consume": consume,
		"group": groupCommand, "partition": partitionCommand, "bench": bench,
		"check": check, "user": userCommand, "acl": aclCommand,
	}
	switch cmd := commands[args[0]]; {
	case cmd != nil:
		return cmd(ctx, args[1:], io)
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "creek: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}

// streams are a command's standard input, output and error.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

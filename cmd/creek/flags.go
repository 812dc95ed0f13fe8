package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newFlags returns a flag set for a command, writing errors to io.err.
func newFlags(name string, io streams) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	return fs
}

// brokersFlag adds --brokers, defaulting to $CREEK_BROKERS or the default
// listen address.
func brokersFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("CREEK_BROKERS")
	if def == "" {
		def = "127.0.0.1:9092"
	}
	return fs.String("brokers", def, "comma-separated Kafka brokers to bootstrap from")
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// keyValues is a repeatable K=V flag.
type keyValues map[string]string

func (kv keyValues) String() string { return fmt.Sprint(map[string]string(kv)) }

func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	kv[k] = v
	return nil
}

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// adminClient is franz-go's admin client, with the client beneath it for
// requests kadm does not make.
type adminClient struct {
	*kadm.Client
	raw *kgo.Client
}

// adminSubcommand parses the flags of "creek CMD SUB" — the connection's,
// and those addFlags adds — and connects an admin client. It returns the
// positional arguments after SUB.
func adminSubcommand(cmd, usage string, args []string, io streams, addFlags func(*flag.FlagSet)) (string, []string, *adminClient, error) {
	if len(args) == 0 {
		fmt.Fprintln(io.err, "usage: creek "+cmd+" "+usage)
		return "", nil, nil, errUsage
	}
	fs := newFlags(cmd+" "+args[0], io)
	conn := connectionFlags(fs)
	addFlags(fs)
	names, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return "", nil, nil, errUsage
	}
	adm, err := conn.admin()
	return args[0], names, adm, err
}

// done prints what a command did, if it succeeded, and returns err.
func done(io streams, err error, format string, args ...any) error {
	if err == nil {
		fmt.Fprintf(io.out, format+"\n", args...)
	}
	return err
}

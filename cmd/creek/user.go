package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

// userCommand runs creek user set|delete|list: SCRAM users, through
// AlterUserScramCredentials and DescribeUserScramCredentials. set reads
// the password from the first line of stdin, so that it is in no process
// listing or shell history.
func userCommand(ctx context.Context, args []string, io streams) error {
	var mechanism *string
	var iterations *int
	sub, names, adm, err := adminSubcommand("user", "set|delete|list [USER] [flags]", args, io,
		func(fs *flag.FlagSet) {
			mechanism = fs.String("mechanism", "both", "set, delete: SCRAM-SHA-256, SCRAM-SHA-512 or both")
			iterations = fs.Int("iterations", 4096, "set: SCRAM iterations, 4096 to 16384")
		})
	if err != nil {
		return err
	}
	defer adm.Close()
	if sub == "list" {
		return listUsers(ctx, adm, names, io)
	}
	if len(names) != 1 {
		fmt.Fprintf(io.err, "usage: creek user %s USER\n", sub)
		return errUsage
	}
	user := names[0]
	mechanisms, err := scramMechanisms(*mechanism)
	if err != nil {
		return err
	}
	var dels []kadm.DeleteSCRAM
	var ups []kadm.UpsertSCRAM
	switch sub {
	case "set":
		line, err := bufio.NewReader(io.in).ReadString('\n')
		password := strings.TrimRight(line, "\r\n")
		if password == "" {
			return fmt.Errorf("creek user set: no password on stdin: %w", err)
		}
		for _, m := range mechanisms {
			ups = append(ups, kadm.UpsertSCRAM{User: user, Mechanism: m, Iterations: int32(*iterations), Password: password})
		}
	case "delete":
		for _, m := range mechanisms {
			dels = append(dels, kadm.DeleteSCRAM{User: user, Mechanism: m})
		}
	default:
		fmt.Fprintf(io.err, "creek user: unknown subcommand %q\n", sub)
		return errUsage
	}
	altered, err := adm.AlterUserSCRAMs(ctx, dels, ups)
	if err == nil {
		err = altered.Error()
	}
	return done(io, err, "%s user %s (%s)", map[string]string{"set": "set", "delete": "deleted"}[sub], user, *mechanism)
}

// scramMechanisms parses --mechanism.
func scramMechanisms(s string) ([]kadm.ScramMechanism, error) {
	switch strings.ToUpper(s) {
	case "BOTH":
		return []kadm.ScramMechanism{kadm.ScramSha256, kadm.ScramSha512}, nil
	case "SCRAM-SHA-256":
		return []kadm.ScramMechanism{kadm.ScramSha256}, nil
	case "SCRAM-SHA-512":
		return []kadm.ScramMechanism{kadm.ScramSha512}, nil
	}
	return nil, fmt.Errorf("--mechanism %q: SCRAM-SHA-256, SCRAM-SHA-512 or both", s)
}

// listUsers prints each user's SCRAM mechanisms and iterations, every
// user's when users is empty.
func listUsers(ctx context.Context, adm *adminClient, users []string, io streams) error {
	described, err := adm.DescribeUserSCRAMs(ctx, users...)
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range described.Sorted() {
		if u.Err != nil {
			errs = append(errs, fmt.Errorf("user %s: %w", u.User, u.Err))
			continue
		}
		var creds []string
		for _, c := range u.CredInfos {
			creds = append(creds, fmt.Sprintf("%s iterations=%d", c.Mechanism, c.Iterations))
		}
		fmt.Fprintf(io.out, "%s\t%s\n", u.User, strings.Join(creds, ", "))
	}
	return errors.Join(errs...)
}

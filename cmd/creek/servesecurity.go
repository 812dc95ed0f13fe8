package main

import (
	"bufio"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"os"
	"strings"

	"github.com/creekmq/creek"
)

// securityFromFlags builds the listener's TLS from a PEM certificate and
// key (--tls-cert, --tls-key) and its SASL from a file of users
// (--sasl-users): one "user:password" a line, blank lines and lines
// beginning with # skipped. The users may authenticate with
// SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN. Either is nil when its flags are
// not given.
func securityFromFlags(certFile, keyFile, usersFile string) (*tls.Config, *creek.SASLConfig, error) {
	var tlsConfig *tls.Config
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, nil, fmt.Errorf("--tls-cert and --tls-key go together")
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--tls-cert, --tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if usersFile == "" {
		return tlsConfig, nil, nil
	}
	users, err := readUsers(usersFile)
	if err != nil {
		return nil, nil, fmt.Errorf("--sasl-users: %w", err)
	}
	plain := func(user, password string) bool {
		want, ok := users[user]
		return ok && subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
	}
	return tlsConfig, &creek.SASLConfig{ScramUsers: users, Plain: plain}, nil
}

// readUsers reads a --sasl-users file. Its errors name lines, never what
// they hold.
func readUsers(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	users := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		user, password, ok := strings.Cut(text, ":")
		if !ok || user == "" || password == "" {
			return nil, fmt.Errorf("%s:%d: not user:password", path, line)
		}
		if _, dup := users[user]; dup {
			return nil, fmt.Errorf("%s:%d: user %q twice", path, line, user)
		}
		users[user] = password
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no users", path)
	}
	return users, nil
}

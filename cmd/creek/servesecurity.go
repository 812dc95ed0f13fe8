package main

import (
	"bufio"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/creekmq/creek"
)

// securityFromFlags builds the listener's TLS from a PEM certificate and
// key (--tls-cert, --tls-key), reloaded when the files change, and
// client certificates the PEM CAs of --tls-client-ca sign, required when
// it is given (mTLS); and its SASL from a file of users (--sasl-users):
// one "user:password" a line, blank lines and lines beginning with #
// skipped. The users may authenticate with SCRAM-SHA-256, SCRAM-SHA-512 or
// PLAIN. Either is nil when its flags are not given.
func securityFromFlags(certFile, keyFile, clientCAFile, usersFile string) (*tls.Config, *creek.SASLConfig, error) {
	var tlsConfig *tls.Config
	if certFile != "" || keyFile != "" || clientCAFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, nil, fmt.Errorf("--tls-cert and --tls-key go together, and --tls-client-ca with them")
		}
		certs, err := newCertReloader(certFile, keyFile, time.Now)
		if err != nil {
			return nil, nil, fmt.Errorf("--tls-cert, --tls-key: %w", err)
		}
		tlsConfig = &tls.Config{GetCertificate: certs.get, MinVersion: tls.VersionTLS12}
		if clientCAFile != "" {
			pool, err := readCAs("--tls-client-ca", clientCAFile)
			if err != nil {
				return nil, nil, err
			}
			tlsConfig.ClientAuth, tlsConfig.ClientCAs = tls.RequireAndVerifyClientCert, pool
		}
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

// certReloader serves a certificate from PEM files, loading them again
// when either file's modification time changes, looked at at most once a
// second, so that a renewed certificate is served without a restart. A
// renewal that does not load (a key not yet written) leaves the last one
// served.
type certReloader struct {
	certFile, keyFile string
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	mtimes  [2]time.Time
	checked time.Time
}

func newCertReloader(certFile, keyFile string, now func() time.Time) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, now: now}
	mtimes, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert, r.mtimes, r.checked = &cert, mtimes, now()
	return r, nil
}

func (r *certReloader) stat() ([2]time.Time, error) {
	var out [2]time.Time
	for i, f := range []string{r.certFile, r.keyFile} {
		info, err := os.Stat(f)
		if err != nil {
			return out, err
		}
		out[i] = info.ModTime()
	}
	return out, nil
}

// get is tls.Config.GetCertificate.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checked) >= time.Second {
		r.checked = now
		if mtimes, err := r.stat(); err == nil && mtimes != r.mtimes {
			if cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile); err == nil {
				r.cert, r.mtimes = &cert, mtimes
			}
		}
	}
	return r.cert, nil
}

// getClient is tls.Config.GetClientCertificate: the same certificate,
// presented as a client.
func (r *certReloader) getClient(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return r.get(nil)
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

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// netnsEnv marks a process already running in the harness's private network
// namespace.
const netnsEnv = "FAULTS_NETNS"

// InNetns reports whether this process runs in the private namespace.
func InNetns() bool { return os.Getenv(netnsEnv) == "1" }

// CanUnshare reports whether this process could re-execute itself in a new
// network namespace: it is root and `unshare --net` works here.
func CanUnshare() bool {
	if os.Geteuid() != 0 {
		return false
	}
	return exec.Command("unshare", "--net", "--", "true").Run() == nil
}

// ReexecInNetns runs this executable again with args under `unshare
// --net`, FAULTS_NETNS=1 in its environment and this process's stdin,
// stdout and stderr, and returns its exit code.
func ReexecInNetns(args []string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command("unshare", append([]string{"--net", "--", self}, args...)...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// Network cuts nodes off from each other with `ip rule` blackholes; it
// works only inside the private namespace that SetupNetns prepared.
type Network struct {
	// Unavailable says why cuts cannot be made; empty when they can.
	Unavailable string

	mu    sync.Mutex
	rules map[[2]string]bool // installed (from, to) blackholes
}

// SetupNetns prepares the namespace for cuts: lo up, and the local table's
// rule moved from preference 0 to 1000 so cut rules at 100 come first.
// Outside the private namespace it returns a Network whose Unavailable
// says why.
func SetupNetns() *Network {
	n := &Network{rules: map[[2]string]bool{}}
	if !InNetns() {
		if os.Geteuid() != 0 {
			n.Unavailable = "not root, so no private network namespace (run as root for the cut fault)"
		} else {
			n.Unavailable = "not in a private network namespace (unshare --net failed?)"
		}
		return n
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"rule", "add", "pref", "1000", "lookup", "local"},
		{"rule", "del", "pref", "0"},
	} {
		if err := ip(args...); err != nil {
			n.Unavailable = err.Error()
			return n
		}
	}
	return n
}

// ip runs the ip command with args.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Cut drops every packet between hosts a and b, both ways.
func (n *Network) Cut(a, b string) error {
	if n.Unavailable != "" {
		return fmt.Errorf("the cut fault needs a private network namespace: %s", n.Unavailable)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, r := range [][2]string{{a, b}, {b, a}} {
		if n.rules[r] {
			continue
		}
		if err := ip("rule", "add", "pref", "100", "from", r[0], "to", r[1], "blackhole"); err != nil {
			return err
		}
		n.rules[r] = true
	}
	return nil
}

// HealAll deletes every cut.
func (n *Network) HealAll() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var errs []error
	for r := range n.rules {
		if err := ip("rule", "del", "pref", "100", "from", r[0], "to", r[1], "blackhole"); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(n.rules, r)
	}
	return errors.Join(errs...)
}

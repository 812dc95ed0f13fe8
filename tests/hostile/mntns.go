package hostile

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// MountNamespaceEnv marks a test process already running in a private
// mount namespace of its own, where it may mount a tmpfs.
const MountNamespaceEnv = "HOSTILE_MNTNS"

// CreekBinEnv hands a re-executed test process the creek binary its parent
// built, so that it does not build it again.
const CreekBinEnv = "HOSTILE_CREEK_BIN"

// InMountNamespace reports whether this process runs in the private mount
// namespace its parent made for it.
func InMountNamespace() bool { return os.Getenv(MountNamespaceEnv) == "1" }

// unshareArgs are the unshare options that give this process a private
// mount namespace where it may mount: as root, a mount namespace; as
// anyone else, also a user namespace in which it is root.
func unshareArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--mount", "--propagation", "private"}
	}
	return []string{"--user", "--map-root-user", "--mount", "--propagation", "private"}
}

// CanUnshareMount says why this process cannot re-execute itself in a new
// mount namespace and mount a tmpfs there, or "" when it can.
func CanUnshareMount() string {
	args := append(unshareArgs(), "--", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt && umount /mnt")
	if out, err := exec.Command("unshare", args...).CombinedOutput(); err != nil {
		return fmt.Sprintf("unshare %v: %v: %s", unshareArgs(), err, strings.TrimSpace(string(out)))
	}
	return ""
}

// UnshareMountCommand is a command running this executable again with
// args in a new, private mount namespace, marked by MountNamespaceEnv.
func UnshareMountCommand(args ...string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("unshare", append(append(unshareArgs(), "--", self), args...)...)
	cmd.Env = append(os.Environ(), MountNamespaceEnv+"=1")
	return cmd, nil
}

// MountTmpfs mounts a tmpfs of size (as mount's size= option takes it,
// e.g. "64m") on dir; only in a private mount namespace.
func MountTmpfs(dir, size string) error {
	if !InMountNamespace() {
		return errors.New("refusing to mount outside a private mount namespace")
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mount tmpfs on %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Unmount lazily unmounts dir.
func Unmount(dir string) error {
	out, err := exec.Command("umount", "-l", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("umount %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

//go:build !linux

package netx

import "syscall"

// bindAddressNoPort does nothing where the kernel has no such option.
func bindAddressNoPort(_, _ string, _ syscall.RawConn) error { return nil }

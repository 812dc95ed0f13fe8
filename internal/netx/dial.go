// Package netx holds what creek's nodes need of the network beyond package
// net: dialling from a node's own address.
package netx

import (
	"net"
	"time"
)

// DialerFrom returns a dialer whose TCP connections leave from host when
// it names an IP address that is not a wildcard, and from any address
// otherwise. The port is chosen when the connection is made, not when it
// is bound, where the kernel allows (Linux's IP_BIND_ADDRESS_NO_PORT): a
// port taken at bind time comes from the ports listeners are given, and a
// node restarted on its old ports found them held by another node's
// outgoing connections.
func DialerFrom(host string, timeout time.Duration) net.Dialer {
	d := net.Dialer{Timeout: timeout}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: ip}
		d.Control = bindAddressNoPort
	}
	return d
}

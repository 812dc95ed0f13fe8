package kafka

import (
	"context"
	"strings"
)

// client is who sent a request: the header's client ID and the remote
// host, which group descriptions show, its principal, and the listener
// it connected to.
type client struct {
	id, host  string
	principal Principal
	listener  *Listener
}

type clientKey struct{}

func withClient(ctx context.Context, c client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

func clientIDFrom(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(client)
	return c.id
}

func clientHostFrom(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(client)
	return c.host
}

// clientAddrFrom returns the request's remote IP address, which ACLs
// name as their host.
func clientAddrFrom(ctx context.Context) string {
	return strings.TrimPrefix(clientHostFrom(ctx), "/")
}

// PrincipalFrom returns the principal a request came from: Anonymous
// unless its connection authenticated.
func PrincipalFrom(ctx context.Context) Principal {
	if c, ok := ctx.Value(clientKey{}).(client); ok && c.principal != "" {
		return c.principal
	}
	return Anonymous
}

// listenerFrom returns the listener a request came in on; nil for a
// request served without one (tests calling handlers directly).
func listenerFrom(ctx context.Context) *Listener {
	c, _ := ctx.Value(clientKey{}).(client)
	return c.listener
}

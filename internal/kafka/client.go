package kafka

import "context"

// client is who sent a request: the header's client ID and the remote
// host, which group descriptions show.
type client struct {
	id, host string
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

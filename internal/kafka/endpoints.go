// Which address of each node a client is told: the one on the listener
// its request came in on, as Kafka answers per listener.

package kafka

import "context"

// brokers returns the cluster's live nodes on the request's listener, or
// this node alone.
func (s *Server) brokers(ctx context.Context) []BrokerMetadata {
	if b := s.broker.Brokers(listenerFrom(ctx).name()); len(b) > 0 {
		return b
	}
	return []BrokerMetadata{s.self(ctx)}
}

// self returns this node on the request's listener (the first, for a
// request that came in on none).
func (s *Server) self(ctx context.Context) BrokerMetadata {
	l := listenerFrom(ctx)
	if l == nil {
		l = s.listeners[0]
	}
	return BrokerMetadata{NodeID: s.cfg.NodeID, Host: l.AdvertisedHost, Port: l.AdvertisedPort}
}

// name returns the listener's name; "" for none.
func (l *Listener) name() string {
	if l == nil {
		return ""
	}
	return l.Name
}

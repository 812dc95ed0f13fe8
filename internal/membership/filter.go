package membership

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/creekmq/creek/internal/netx"
)

// filteredTransport is memberlist's network transport with some peers
// cut off, for tests of network partitions: packets to or from a blocked
// address are dropped, and streams to one cannot be opened. Streams a
// peer opens are not filtered here: the peer's own filter refuses them.
// Packets sent may also be lost, duplicated or delayed, as fate says.
type filteredTransport struct {
	*memberlist.NetTransport
	blocked func(addr string) bool
	fate    func(addr string) (drop, duplicate bool, delay time.Duration)
	// localHost is the host streams to other nodes leave from: the one
	// gossip binds, as its packets do.
	localHost string
	packets   chan *memberlist.Packet
	stop      chan struct{}
	wg        sync.WaitGroup

	mu     sync.Mutex // held by delayed sends, so none runs after Shutdown
	closed bool
}

var _ memberlist.NodeAwareTransport = (*filteredTransport)(nil)

func newFilteredTransport(bindHost string, bindPort int, blocked func(addr string) bool,
	fate func(addr string) (drop, duplicate bool, delay time.Duration)) (*filteredTransport, error) {
	inner, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{bindHost}, BindPort: bindPort})
	if err != nil {
		return nil, err
	}
	if blocked == nil {
		blocked = func(string) bool { return false }
	}
	if fate == nil {
		fate = func(string) (bool, bool, time.Duration) { return false, false, 0 }
	}
	t := &filteredTransport{NetTransport: inner, blocked: blocked, fate: fate, packets: make(chan *memberlist.Packet),
		stop: make(chan struct{})}
	t.localHost = bindHost
	t.wg.Add(1)
	go t.forward()
	return t, nil
}

// forward passes on the packets that do not come from a blocked address.
func (t *filteredTransport) forward() {
	defer t.wg.Done()
	for {
		select {
		case p := <-t.NetTransport.PacketCh():
			if t.blocked(p.From.String()) {
				continue
			}
			select {
			case t.packets <- p:
			case <-t.stop:
				return
			}
		case <-t.stop:
			return
		}
	}
}

func (t *filteredTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

func (t *filteredTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	drop, duplicate, delay := t.fate(addr)
	if t.blocked(addr) || drop {
		return time.Now(), nil // lost on the way, as UDP may be
	}
	sends := 1
	if duplicate {
		sends = 2
	}
	if delay == 0 {
		var err error
		for range sends {
			_, err = t.NetTransport.WriteTo(b, addr)
		}
		return time.Now(), err
	}
	held := append([]byte(nil), b...)
	time.AfterFunc(delay, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		for i := 0; i < sends && !t.closed; i++ {
			t.NetTransport.WriteTo(held, addr) // a late packet may be lost, as UDP's may
		}
	})
	return time.Now(), nil
}

func (t *filteredTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return t.WriteTo(b, a.Addr)
}

func (t *filteredTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if t.blocked(addr) {
		return nil, fmt.Errorf("gossip to %s: link cut", addr)
	}
	d := netx.DialerFrom(t.localHost, timeout)
	return d.Dial("tcp", addr)
}

func (t *filteredTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}

func (t *filteredTransport) Shutdown() error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	err := t.NetTransport.Shutdown()
	close(t.stop)
	t.wg.Wait()
	return err
}

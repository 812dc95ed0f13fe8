package hostile

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TestSASLHostileClients: against a node whose clients must authenticate
// (creek serve --sasl-users), clients that have proved nothing send a
// 100 MB frame, requests out of SASL's order, and hundreds of handshakes
// of every mechanism followed by random or truncated SASL messages. Each
// is refused with its connection closed; the node stays up, its memory
// bounded, and a real SCRAM client is served after.
func TestSASLHostileClients(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte("alice:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	node, err := StartNode(t.Context(), NodeOptions{Bin: creekBin, Data: filepath.Join(dir, "data"),
		Extra: []string{"--sasl-users", users, "--sasl-oauth-unsecured"}})
	if err != nil {
		t.Fatalf("start creek: %v", err)
	}
	t.Cleanup(func() {
		node.Kill()
		if t.Failed() {
			t.Logf("creek's log ends:\n%s", node.Tail(15))
		}
	})
	dial := func() *RawConn {
		t.Helper()
		conn, err := DialRaw(t.Context(), node.Addr())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		return conn
	}
	closed := func(conn *RawConn, what string) {
		t.Helper()
		for {
			if _, _, err := conn.ReadFrame(MaxResponseBytes); err != nil {
				if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
					t.Errorf("%s: the connection stayed open", what)
				}
				conn.Close()
				return
			}
		}
	}

	// A 100 MB frame before authenticating: refused before it is read.
	conn := dial()
	big := make([]byte, 8, 8+1<<20)
	binary.BigEndian.PutUint32(big, 100_000_000)
	conn.Write(big) // the node may close before it has all of this
	closed(conn, "a 100 MB frame before authenticating")

	// A Metadata before authenticating.
	conn = dial()
	conn.Send(kmsg.NewPtrMetadataRequest())
	closed(conn, "Metadata before authenticating")

	random := rand.New(rand.NewPCG(17, 19))
	for i := range 300 {
		conn := dial()
		mechanisms := []string{"SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "PLAIN", "GSSAPI"}
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 1, mechanisms[i%len(mechanisms)]
		conn.Send(hs)
		conn.ReadFrame(MaxResponseBytes)
		for step := range 3 {
			auth := kmsg.NewPtrSASLAuthenticateRequest()
			auth.Version = int16(step % 3)
			auth.SASLAuthBytes = make([]byte, random.IntN(600))
			for j := range auth.SASLAuthBytes {
				auth.SASLAuthBytes[j] = byte(random.Uint32())
			}
			if random.IntN(3) == 0 { // something of the right shape, half made up
				auth.SASLAuthBytes = append([]byte("n,,n=alice,r="), auth.SASLAuthBytes[:min(len(auth.SASLAuthBytes), 20)]...)
			}
			conn.Send(auth)
		}
		closed(conn, "random SASL messages")
	}
	if err := node.Alive(); err != nil {
		t.Fatalf("after the hostile clients: %v", err)
	}
	peak, _ := PeakRSS(node.PID())
	t.Logf("creek peak RSS %.1f MiB", float64(peak)/MiB)
	if peak > peakRSSBound {
		t.Errorf("peak RSS %.1f MiB, over %d MiB", float64(peak)/MiB, peakRSSBound/MiB)
	}
	for _, line := range node.Grep("panic") {
		t.Errorf("creek logged: %s", line)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()),
		kgo.SASL(scram.Auth{User: "alice", Pass: "s3cret"}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("a real SCRAM client after the hostile ones: %v", err)
	}
}

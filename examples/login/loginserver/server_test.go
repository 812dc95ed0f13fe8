package loginserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/creekmq/creek"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// client speaks to the server only through the Kafka protocol, as the
// Node.js client does.
type client struct {
	t  *testing.T
	cl *kgo.Client
	n  int
}

func (c *client) login(email, password string) Reply {
	c.t.Helper()
	c.n++
	id := fmt.Sprintf("req-%d", c.n)
	value, _ := json.Marshal(Request{CorrelationID: id, Email: email, Password: password})
	ctx, cancel := context.WithTimeout(c.t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(c.t, c.cl.ProduceSync(ctx, &kgo.Record{Topic: RequestsTopic, Key: []byte(id), Value: value}).FirstErr())
	for {
		fetches := c.cl.PollFetches(ctx)
		require.NoError(c.t, fetches.Err0())
		for _, r := range fetches.Records() {
			var reply Reply
			require.NoError(c.t, json.Unmarshal(r.Value, &reply))
			if reply.CorrelationID == id && string(r.Key) == id {
				return reply
			}
		}
	}
}

func TestServerThroughKafka(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	node, err := creek.Open(creek.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer func() { assert.NoError(t, node.Close()) }()
	users, err := NewUsers()
	require.NoError(t, err)
	server, err := New(t.Context(), node, users, NewLimiter(3, time.Hour), log)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- server.Run(context.Background()) }()
	defer func() {
		require.NoError(t, server.Close())
		require.NoError(t, <-done)
	}()

	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr().String()), kgo.ConsumeTopics(RepliesTopic))
	require.NoError(t, err)
	defer cl.Close()
	c := &client{t: t, cl: cl}

	ok := c.login(DemoEmail, DemoPassword)
	assert.True(t, ok.OK)
	assert.Equal(t, msgWelcome, ok.Message)
	assert.True(t, c.login(" TEST@email.com ", DemoPassword).OK, "emails compare case-blind")

	wrong := c.login(DemoEmail, "guess")
	assert.False(t, wrong.OK)
	assert.Equal(t, msgDenied, wrong.Message)
	assert.Equal(t, msgDenied, c.login("nobody@email.com", "x").Message, "an unknown email reads the same")
	assert.Equal(t, msgInvalid, c.login("", "").Message)

	c.login(DemoEmail, "guess 2")
	c.login(DemoEmail, "guess 3")
	locked := c.login(DemoEmail, DemoPassword)
	assert.False(t, locked.OK, "three failures lock the email, even for the right password")
	assert.Equal(t, msgLocked, locked.Message)

	assert.NotContains(t, logs.String(), DemoPassword, "passwords are never logged")
	assert.NotContains(t, logs.String(), "guess")
	assert.Contains(t, logs.String(), "email="+DemoEmail)
}

func TestLimiterWindow(t *testing.T) {
	now := time.Unix(0, 0)
	l := NewLimiter(2, time.Minute)
	l.now = func() time.Time { return now }
	l.Fail("a@b")
	assert.False(t, l.Locked("a@b"))
	l.Fail("A@b")
	assert.True(t, l.Locked("a@b"))
	now = now.Add(time.Minute)
	assert.False(t, l.Locked("a@b"), "the window passed")
	l.Fail("a@b")
	l.Succeed("a@b")
	l.Fail("a@b")
	assert.False(t, l.Locked("a@b"), "a success forgets failures")
}

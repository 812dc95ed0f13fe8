package loginserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/creekmq/creek"
)

// Server answers login requests. It reads RequestsTopic as a member of
// Group, so more servers share the load, and commits after it has replied
// (at-least-once: a crash between reply and commit answers a request
// twice, which the client ignores, as it waits for one reply per
// correlation ID).
type Server struct {
	users    *Users
	limiter  *Limiter
	log      *slog.Logger
	consumer *creek.Consumer
	producer *creek.Producer
}

// Messages a client shows.
const (
	msgWelcome = "Welcome back!"
	msgDenied  = "Wrong email or password."
	msgLocked  = "Too many failed attempts. Try again later."
	msgInvalid = "Enter an email and a password."
)

// New starts a server on node, creating the topics if needed.
func New(ctx context.Context, node *creek.Node, users *Users, limiter *Limiter, log *slog.Logger) (*Server, error) {
	for _, topic := range []string{RequestsTopic, RepliesTopic} {
		err := node.CreateTopic(ctx, topic, creek.TopicSpec{Partitions: 3})
		if err != nil && !errors.Is(err, creek.ErrTopicExists) {
			return nil, err
		}
	}
	consumer, err := node.NewConsumer(creek.ConsumerConfig{Group: Group, ClientID: "login-server",
		Reset: creek.ResetEarliest, DisableAutoCommit: true})
	if err != nil {
		return nil, err
	}
	producer, err := node.NewProducer(creek.ProducerConfig{})
	if err != nil {
		return nil, errors.Join(err, consumer.Close())
	}
	consumer.Subscribe(RequestsTopic)
	return &Server{users: users, limiter: limiter, log: log, consumer: consumer, producer: producer}, nil
}

// Run answers requests until ctx ends or Close is called.
func (s *Server) Run(ctx context.Context) error {
	for {
		polled, err := s.consumer.Poll(ctx)
		if errors.Is(err, creek.ErrClosed) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		var replies []*creek.Record
		for _, pr := range polled {
			for _, r := range pr.Records {
				reply := s.answer(r.Value)
				value, _ := json.Marshal(reply)
				replies = append(replies, &creek.Record{Topic: RepliesTopic, Key: r.Key, Value: value})
			}
		}
		if err := s.producer.Produce(ctx, replies...); errors.Is(err, creek.ErrProducerClosed) {
			return nil // closed meanwhile: the requests are answered by whoever takes them over
		} else if err != nil {
			return err
		}
		if err := s.consumer.Commit(ctx); err != nil {
			s.log.Warn("commit of answered login requests failed; they may be answered again", "err", err)
		}
	}
}

// answer checks one request. The password never leaves this function: it
// is not logged, and the reply does not say whether the email exists.
func (s *Server) answer(value []byte) Reply {
	var req Request
	if err := json.Unmarshal(value, &req); err != nil || req.CorrelationID == "" {
		s.log.Warn("unreadable login request", "bytes", len(value))
		return Reply{CorrelationID: req.CorrelationID, Message: msgInvalid}
	}
	reply := Reply{CorrelationID: req.CorrelationID}
	start := time.Now()
	switch {
	case req.Email == "" || req.Password == "":
		reply.Message = msgInvalid
	case s.limiter.Locked(req.Email):
		reply.Message = msgLocked
	case s.users.Check(req.Email, req.Password):
		s.limiter.Succeed(req.Email)
		reply.OK, reply.Message = true, msgWelcome
	default:
		s.limiter.Fail(req.Email)
		reply.Message = msgDenied
	}
	s.log.Info("login", "email", req.Email, "ok", reply.OK, "correlation_id", req.CorrelationID,
		"took", time.Since(start).Round(time.Millisecond))
	return reply
}

// Close stops the server: it leaves the group, so another server takes
// the requests over at once.
func (s *Server) Close() error {
	return errors.Join(s.consumer.Close(), s.producer.Close())
}

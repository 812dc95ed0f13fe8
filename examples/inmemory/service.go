package inmemory

import (
	"context"
	"errors"
	"strings"

	"github.com/creekmq/creek"
)

// Topics the service reads and writes.
const (
	RequestsTopic = "login.requests"
	RepliesTopic  = "login.replies"
)

// Service answers login requests: each request's key is its correlation id
// and its value "email password"; each reply carries the same key and "ok"
// or "denied".
type Service struct {
	Users    map[string]string // email → password (a real service stores hashes)
	consumer *creek.Consumer
	producer *creek.Producer
}

// NewService reads requests from node as group "login-server".
func NewService(node *creek.Node, users map[string]string) (*Service, error) {
	c, err := node.NewConsumer(creek.ConsumerConfig{Group: "login-server", Reset: creek.ResetEarliest})
	if err != nil {
		return nil, err
	}
	p, err := node.NewProducer(creek.ProducerConfig{})
	if err != nil {
		return nil, errors.Join(err, c.Close())
	}
	c.Subscribe(RequestsTopic)
	return &Service{Users: users, consumer: c, producer: p}, nil
}

// Run answers requests until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	for {
		polled, err := s.consumer.Poll(ctx)
		if err != nil {
			return err
		}
		for _, pr := range polled {
			for _, r := range pr.Records {
				email, password, _ := strings.Cut(string(r.Value), " ")
				answer := "denied"
				if want, ok := s.Users[email]; ok && want == password {
					answer = "ok"
				}
				reply := &creek.Record{Topic: RepliesTopic, Key: r.Key, Value: []byte(answer)}
				if err := s.producer.Produce(ctx, reply); err != nil {
					return err
				}
			}
		}
	}
}

// Close commits what was answered and releases the service.
func (s *Service) Close() error { return errors.Join(s.producer.Close(), s.consumer.Close()) }

package creek

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkTransactions measures what transactions cost: b.N records of
// 100 B produced with the embedded idempotent producer, and the same
// through a transactional one in transactions of 1, 100 and 10,000
// records, on one node on disk, in the same run. It reports both rates
// and transactional/idempotent (1 would be free).
//
//	go test -run '^$' -bench Transactions -benchtime 20000x .
func BenchmarkTransactions(b *testing.B) {
	for _, size := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("records-per-transaction=%d", size), func(b *testing.B) { benchTransactions(b, size) })
	}
}

func benchTransactions(b *testing.B, size int) {
	ctx := context.Background()
	n, err := Open(Config{Dir: b.TempDir(), Logger: discardLogger(), TransactionStatePartitions: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	for _, topic := range []string{"idempotent", "transactional"} {
		if err := n.CreateTopic(ctx, topic, TopicSpec{}); err != nil {
			b.Fatal(err)
		}
	}
	idempotent, err := n.NewProducer(ProducerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer idempotent.Close()
	transactional, err := n.NewProducer(ProducerConfig{TransactionalID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer transactional.Close()
	value := make([]byte, 100)
	b.ResetTimer()

	plain := timed(b, nil, func() error {
		for range b.N {
			if err := idempotent.ProduceAsync(ctx, &Record{Topic: "idempotent", Value: value}, nil); err != nil {
				return err
			}
		}
		return idempotent.Flush(ctx)
	})
	inTxns := timed(b, nil, func() error {
		for sent := 0; sent < b.N; {
			if err := transactional.BeginTransaction(); err != nil {
				return err
			}
			for i := 0; i < size && sent < b.N; i, sent = i+1, sent+1 {
				if err := transactional.ProduceAsync(ctx, &Record{Topic: "transactional", Value: value}, nil); err != nil {
					return err
				}
			}
			if err := transactional.CommitTransaction(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	rate := func(d time.Duration) float64 { return float64(b.N) / d.Seconds() }
	b.ReportMetric(rate(plain), "idempotent-records/s")
	b.ReportMetric(rate(inTxns), "transactional-records/s")
	b.ReportMetric(float64(plain)/float64(inTxns), "transactional/idempotent")
}

package kafka

import (
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// Fetch, versions 4–16 (RecordBatch v2; topics by name, or by topic ID
// from version 13). Stored batches
// are returned as they are; the first batch may begin before the offset
// asked for, which clients skip. The response waits up to MaxWaitMillis
// for MinBytes, waking when any partition asked for grows. Fetch sessions
// (KIP-227) are not kept: a request opening one is answered with session
// ID 0, which tells the client to send full fetches, and one continuing a
// session gets FETCH_SESSION_ID_NOT_FOUND. The response's MaxBytes is
// kept as KIP-74 allows: whole batches, so the first partition with data
// always gets one, and each later one may exceed what is left by at most
// one batch. A consumer reads below the high watermark; a follower's
// replica fetch (ReplicaID ≥ 0, or ReplicaState from version 15) reads to
// the log end, and tells the leader how far the follower has come. A
// replica fetch whose LastFetchedEpoch (version 12+) the leader's log does
// not hold up to the fetch offset gets no records but the diverging epoch
// and its end offset, for the follower to truncate to (KIP-595's in-band
// truncation); consumers' fetches are not checked so. A read_committed
// consumer (IsolationLevel 1) reads below the last stable offset and gets
// the aborted transactions of what it read, an empty list when there are
// none; read_uncommitted gets null there, as from Kafka. With an
// authorizer, a consumer needs READ on each topic, a follower CLUSTER_ACTION
// on the cluster (TOPIC_AUTHORIZATION_FAILED for each partition refused).

// DefaultFetchMaxBytes is the most record bytes a Fetch response holds,
// whatever the client asks: the broker's fetch.max.bytes default in Kafka
// (55 MiB). Before, eight fetches asking for 2 GiB of a 256 MiB partition
// built 4 GB of responses.
const DefaultFetchMaxBytes = 57671680

// maxPooledFetchBuffer is the largest buffer fetchBuffers keeps.
const maxPooledFetchBuffer = 1 << 20

// fetchBuffers recycles the buffers partitions' batches are read into:
// a response's buffers return here once it is written.
var fetchBuffers = sync.Pool{New: func() any { return new([]byte) }}

// fetchResponse is a Fetch response that gives its buffers, and its
// records' share of the node's budget, back after it is written.
type fetchResponse struct {
	*kmsg.FetchResponse
	buffers []*[]byte
	budget  *byteBudget
	charged int64 // of budget, for the records read
}

// Release returns the response's buffers to the pool and its charge to the
// budget; the response must not be used after.
func (r *fetchResponse) Release() {
	r.budget.release(r.charged)
	r.charged = 0
	for _, b := range r.buffers {
		if cap(*b) > maxPooledFetchBuffer {
			continue // a large response's memory goes back to the runtime, not to a pool that keeps it
		}
		*b = (*b)[:0]
		fetchBuffers.Put(b)
	}
	r.buffers = nil
}

// charge takes up to limit bytes of the node's budget for a partition's
// records, as many as are free, and returns how many it took: the most
// the partition may read. A fetch is never kept waiting for the budget
// (it may be a follower's, which produces waiting for replication need);
// when the budget is spent it reads less, or nothing, and the client asks
// again.
func (r *fetchResponse) charge(limit int64) int64 {
	got := r.budget.tryAcquire(limit*recordCopies) / recordCopies
	r.charged += got * recordCopies
	return got
}

// recordCopies is how many times a Fetch response holds its records at
// once: as read, and encoded into the response frame.
const recordCopies = 2

// settle trues a partition's charge up to what it read: a read may return
// less than its limit, or more (one whole batch, KIP-74).
func (r *fetchResponse) settle(charged, read int64) {
	delta := (read - charged) * recordCopies
	if delta < 0 {
		r.budget.release(-delta)
	} else {
		r.budget.take(delta)
	}
	r.charged += delta
}

func serveFetch(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.FetchRequest)
	if req.SessionEpoch > 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp
	}
	refused := s.refusedFetches(ctx, req)
	deadline := time.NewTimer(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	defer deadline.Stop()
	for {
		wake := s.arrivals(req, refused) // before reading: an append after the read still wakes us
		resp, size := s.fetchOnce(ctx, req, refused)
		if size >= int(req.MinBytes) || req.MaxWaitMillis <= 0 || len(wake) == 0 {
			return resp
		}
		resp.Release()
		cases := []reflect.SelectCase{
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(deadline.C)},
		}
		for _, ch := range wake {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		if chosen, _, _ := reflect.Select(cases); chosen < 2 {
			resp.Release()
			resp, _ = s.fetchOnce(ctx, req, refused)
			return resp
		}
	}
}

// lastFetchedEpoch returns a partition's LastFetchedEpoch, which Fetch
// carries from version 12.
func lastFetchedEpoch(version int16, epoch int32) int32 {
	if version < 12 {
		return -1
	}
	return epoch
}

// abortedTransactions returns a read_committed fetch's aborted
// transactions as the response holds them: nil (null) stays nil, for
// read_uncommitted.
func abortedTransactions(aborted []AbortedTxn) []kmsg.FetchResponseTopicPartitionAbortedTransaction {
	if aborted == nil {
		return nil
	}
	out := make([]kmsg.FetchResponseTopicPartitionAbortedTransaction, len(aborted))
	for i, a := range aborted {
		out[i] = kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		out[i].ProducerID, out[i].FirstOffset = a.ProducerID, a.FirstOffset
	}
	return out
}

// fetchReplica returns the follower a Fetch is from, or -1 for a
// consumer's.
func fetchReplica(req *kmsg.FetchRequest) int32 {
	if req.Version >= 15 {
		return req.ReplicaState.ID
	}
	return req.ReplicaID
}

// refusedFetches returns the topics of req its principal may not read:
// a consumer's, those it may not READ; a follower's, none with
// CLUSTER_ACTION on the cluster, every one without.
func (s *Server) refusedFetches(ctx context.Context, req *kmsg.FetchRequest) map[string]bool {
	topics := func(yield func(string) bool) {
		for _, rt := range req.Topics {
			if !yield(s.topicName(req.Version >= 13, rt.Topic, rt.TopicID)) {
				return
			}
		}
	}
	if fetchReplica(req) >= 0 {
		if s.mayCluster(ctx, acl.ClusterAction) {
			return nil
		}
		refused := map[string]bool{}
		for name := range topics {
			refused[name] = true
		}
		return refused
	}
	return s.refusedTopics(ctx, acl.Read, topics)
}

// arrivals returns the channels that announce growth of the partitions
// asked for and not refused.
func (s *Server) arrivals(req *kmsg.FetchRequest, refused map[string]bool) []<-chan struct{} {
	var out []<-chan struct{}
	for _, rt := range req.Topics {
		topic := s.topicName(req.Version >= 13, rt.Topic, rt.TopicID)
		if refused[topic] {
			continue
		}
		for _, rp := range rt.Partitions {
			if ch, err := s.broker.Arrival(topic, rp.Partition); err == nil {
				out = append(out, ch)
			}
		}
	}
	return out
}

// fetchOnce reads what every partition holds now, but those of refused
// topics, and returns the response with its size in record bytes.
func (s *Server) fetchOnce(ctx context.Context, req *kmsg.FetchRequest, refused map[string]bool) (*fetchResponse, int) {
	resp := &fetchResponse{FetchResponse: req.ResponseKind().(*kmsg.FetchResponse), budget: s.requestBytes}
	budget := int(s.cfg.FetchMaxBytes)
	if req.MaxBytes > 0 {
		budget = min(budget, int(req.MaxBytes))
	}
	size := 0
	replica := fetchReplica(req)
	for _, rt := range req.Topics {
		ot := kmsg.NewFetchResponseTopic()
		ot.Topic = s.topicName(req.Version >= 13, rt.Topic, rt.TopicID)
		ot.TopicID = rt.TopicID
		for _, rp := range rt.Partitions {
			op := kmsg.NewFetchResponseTopicPartition()
			op.Partition = rp.Partition
			op.RecordBatches = []byte{} // empty, not null: librdkafka refuses a null record set
			if refused[ot.Topic] {
				op.ErrorCode, op.HighWatermark, op.LastStableOffset = kerr.TopicAuthorizationFailed.Code, -1, -1
				ot.Partitions = append(ot.Partitions, op)
				continue
			}
			limit := min(int(rp.PartitionMaxBytes), budget-size)
			if size == 0 {
				limit = max(limit, 1) // KIP-74: the first partition with data gets a whole batch
			}
			limit = int(resp.charge(int64(limit)))
			buf := fetchBuffers.Get().(*[]byte)
			res, err := s.broker.Fetch((*buf)[:0], FetchPartition{Topic: ot.Topic, Partition: rp.Partition,
				Offset: rp.FetchOffset, MaxBytes: limit, ReplicaID: replica, CurrentLeaderEpoch: rp.CurrentLeaderEpoch,
				LastFetchedEpoch: lastFetchedEpoch(req.Version, rp.LastFetchedEpoch), Isolation: req.IsolationLevel})
			resp.settle(int64(limit), int64(len(res.Records)))
			*buf = res.Records
			resp.buffers = append(resp.buffers, buf)
			op.HighWatermark, op.LastStableOffset, op.LogStartOffset = res.HighWatermark, res.LastStableOffset, res.LogStartOffset
			op.AbortedTransactions = abortedTransactions(res.Aborted)
			switch {
			case ot.Topic == "":
				op.ErrorCode = kerr.UnknownTopicID.Code
			case err != nil:
				op.ErrorCode = s.broker.ErrorCode(err)
			case res.Diverged:
				op.DivergingEpoch.Epoch, op.DivergingEpoch.EndOffset = res.DivergingEpoch, res.DivergingEndOffset
			case len(res.Records) > 0:
				op.RecordBatches = res.Records
				size += len(res.Records)
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	s.hintFetchLeaders(ctx, resp.FetchResponse)
	return resp, size
}

package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/txnlog"
)

// WriteTxnMarkers, versions 0–1: a transaction coordinator on another
// node has the partitions this node leads end a producer's transaction,
// committed or aborted. Each partition answers for itself, once the
// marker is written and replicated.
// With an authorizer, only a principal with CLUSTER_ACTION on the cluster
// writes markers (CLUSTER_AUTHORIZATION_FAILED for every partition).

func serveWriteTxnMarkers(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.WriteTxnMarkersRequest)
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	refused := !s.mayCluster(ctx, acl.ClusterAction)
	for _, rm := range req.Markers {
		om := kmsg.NewWriteTxnMarkersResponseMarker()
		om.ProducerID = rm.ProducerID
		m := txnlog.Marker{ProducerID: rm.ProducerID, Epoch: rm.ProducerEpoch, Commit: rm.Committed,
			CoordinatorEpoch: rm.CoordinatorEpoch}
		for _, rt := range rm.Topics {
			ot := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			ot.Topic = rt.Topic
			for _, p := range rt.Partitions {
				op := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				op.Partition = p
				if refused {
					op.ErrorCode = kerr.ClusterAuthorizationFailed.Code
				} else if err := s.broker.WriteTxnMarker(ctx, TopicPartition{rt.Topic, p}, m); err != nil {
					op.ErrorCode = s.broker.ErrorCode(err)
				}
				ot.Partitions = append(ot.Partitions, op)
			}
			om.Topics = append(om.Topics, ot)
		}
		resp.Markers = append(resp.Markers, om)
	}
	return resp
}

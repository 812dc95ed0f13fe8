package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FindCoordinator, versions 0–4: this node coordinates every group, as it
// leads every __consumer_offsets partition. Transaction coordinators
// (key type 1) are not served yet: COORDINATOR_NOT_AVAILABLE.

const codeCoordinatorNotAvailable int16 = 15

func serveFindCoordinator(_ context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	code := int16(0)
	if req.CoordinatorType != 0 {
		code = codeCoordinatorNotAvailable
	}
	if req.Version < 4 {
		resp.ErrorCode, resp.NodeID, resp.Host, resp.Port = code, s.cfg.NodeID, s.cfg.AdvertisedHost, s.cfg.AdvertisedPort
		return resp
	}
	for _, key := range req.CoordinatorKeys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.ErrorCode = key, code
		c.NodeID, c.Host, c.Port = s.cfg.NodeID, s.cfg.AdvertisedHost, s.cfg.AdvertisedPort
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return resp
}

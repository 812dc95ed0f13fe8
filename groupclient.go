// An in-process group member's requests to its coordinator, local or remote.

package creek

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/group"
	"github.com/creekmq/creek/internal/kafka"
)

// groupClient is an in-process group member's way to its group's
// coordinator: this node's when it coordinates the group, otherwise the
// coordinating node's over the Kafka protocol, as a Kafka client's
// requests go. It keeps a connection of its own to a remote coordinator:
// a JoinGroup waits there for the whole join phase, which must not hold up
// the node's other forwarded requests.
type groupClient struct {
	n        *Node
	group    string
	clientID string
	as       *actingAs // the consumer's principal; nil: the application's

	mu       sync.Mutex // guards the connection; the member sends one request at a time
	conn     *kafka.Conn
	connNode int32
}

func newGroupClient(n *Node, groupID, clientID string, as *actingAs) *groupClient {
	return &groupClient{n: n, group: groupID, clientID: clientID, connNode: -1, as: as}
}

// remote returns a connection to the group's coordinator, or nil when
// this node coordinates the group.
func (gc *groupClient) remote(ctx context.Context) (*kafka.Conn, error) {
	coordinator, err := gc.n.groupCoordinator(ctx, gc.group)
	if err != nil || coordinator == gc.n.nodeID() {
		return nil, err
	}
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if gc.conn != nil && gc.connNode == coordinator {
		return gc.conn, nil
	}
	gc.closeLocked()
	addr := gc.n.memberKafkaAddr(coordinator)
	if addr == "" {
		return nil, fmt.Errorf("%w: node %d is not a live member", ErrCoordinatorNotAvailable, coordinator)
	}
	conn, err := gc.n.dialNode(ctx, addr, gc.clientID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCoordinatorNotAvailable, err)
	}
	gc.conn, gc.connNode = conn, coordinator
	return conn, nil
}

// request sends req to the coordinator. A broken connection is dropped,
// and reported as the coordinator's absence, so the member looks again.
func (gc *groupClient) request(ctx context.Context, conn *kafka.Conn, req kmsg.Request) (kmsg.Response, error) {
	resp, err := conn.Request(ctx, req)
	if err != nil {
		gc.mu.Lock()
		if gc.conn == conn {
			gc.closeLocked()
		}
		gc.mu.Unlock()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", ErrCoordinatorNotAvailable, err)
	}
	return resp, nil
}

func (gc *groupClient) closeLocked() {
	if gc.conn != nil {
		gc.conn.Close()
		gc.conn, gc.connNode = nil, -1
	}
}

// close drops the connection to a remote coordinator.
func (gc *groupClient) close() {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	gc.closeLocked()
}

// join is JoinGroup. A remote coordinator first hands out a member ID
// (KIP-394), which the join then uses at once.
func (gc *groupClient) join(ctx context.Context, jr group.JoinRequest) (group.JoinResponse, error) {
	if err := gc.as.may(acl.Read, acl.Group, gc.group); err != nil {
		return group.JoinResponse{}, err
	}
	conn, err := gc.remote(ctx)
	if err != nil || conn == nil {
		if err != nil {
			return group.JoinResponse{}, err
		}
		return gc.n.groups.Join(ctx, jr)
	}
	ctx, cancel := context.WithTimeout(ctx, jr.RebalanceTimeout+jr.SessionTimeout) // the join phase, and then some
	defer cancel()
	for {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.MemberID, req.InstanceID = jr.Group, jr.MemberID, optional(jr.InstanceID)
		req.SessionTimeoutMillis = int32(jr.SessionTimeout / time.Millisecond)
		req.RebalanceTimeoutMillis = int32(jr.RebalanceTimeout / time.Millisecond)
		req.ProtocolType = jr.ProtocolType
		for _, p := range jr.Protocols {
			req.Protocols = append(req.Protocols, kmsg.JoinGroupRequestProtocol{Name: p.Name, Metadata: p.Metadata})
		}
		r, err := gc.request(ctx, conn, req)
		if err != nil {
			return group.JoinResponse{}, err
		}
		resp := r.(*kmsg.JoinGroupResponse)
		if err := errorForCode(resp.ErrorCode, "join group "+jr.Group); err != nil {
			if errors.Is(err, ErrMemberIDRequired) && jr.MemberID == "" {
				jr.MemberID = resp.MemberID
				continue
			}
			return group.JoinResponse{}, err
		}
		out := group.JoinResponse{Generation: resp.Generation, Protocol: deref(resp.Protocol),
			LeaderID: resp.LeaderID, MemberID: resp.MemberID}
		for _, m := range resp.Members {
			out.Members = append(out.Members, group.Member{MemberID: m.MemberID, InstanceID: deref(m.InstanceID),
				Metadata: m.ProtocolMetadata})
		}
		return out, nil
	}
}

// sync is SyncGroup.
func (gc *groupClient) sync(ctx context.Context, sr group.SyncRequest, rebalanceTimeout time.Duration) ([]byte, error) {
	conn, err := gc.remote(ctx)
	if err != nil || conn == nil {
		if err != nil {
			return nil, err
		}
		return gc.n.groups.Sync(ctx, sr)
	}
	ctx, cancel := context.WithTimeout(ctx, rebalanceTimeout)
	defer cancel()
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group, req.Generation, req.MemberID, req.InstanceID = sr.Group, sr.Generation, sr.MemberID, optional(sr.InstanceID)
	for id, a := range sr.Assignments {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: a})
	}
	r, err := gc.request(ctx, conn, req)
	if err != nil {
		return nil, err
	}
	resp := r.(*kmsg.SyncGroupResponse)
	return resp.MemberAssignment, errorForCode(resp.ErrorCode, "sync group "+sr.Group)
}

// heartbeat is Heartbeat.
func (gc *groupClient) heartbeat(ctx context.Context, id group.Identity) error {
	conn, err := gc.remote(ctx)
	if err != nil || conn == nil {
		if err != nil {
			return err
		}
		return gc.n.groups.Heartbeat(gc.group, id)
	}
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.Generation, req.MemberID, req.InstanceID = gc.group, id.Generation, id.MemberID, optional(id.InstanceID)
	r, err := gc.request(ctx, conn, req)
	if err != nil {
		return err
	}
	return errorForCode(r.(*kmsg.HeartbeatResponse).ErrorCode, "heartbeat to group "+gc.group)
}

// leave is LeaveGroup.
func (gc *groupClient) leave(ctx context.Context, id group.Identity) error {
	conn, err := gc.remote(ctx)
	if err != nil || conn == nil {
		if err != nil {
			return err
		}
		return gc.n.groups.Leave(gc.group, id)
	}
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group, req.MemberID = gc.group, id.MemberID
	req.Members = []kmsg.LeaveGroupRequestMember{{MemberID: id.MemberID, InstanceID: optional(id.InstanceID)}}
	r, err := gc.request(ctx, conn, req)
	if err != nil {
		return err
	}
	resp := r.(*kmsg.LeaveGroupResponse)
	if err := errorForCode(resp.ErrorCode, "leave group "+gc.group); err != nil {
		return err
	}
	for _, m := range resp.Members {
		if err := errorForCode(m.ErrorCode, "leave group "+gc.group); err != nil {
			return err
		}
	}
	return nil
}

// optional is s as a nullable protocol string: nil when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

package creek

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/group"
	"github.com/creekmq/creek/internal/kafka"
)

func TestGroupMetadataRecordRoundTrip(t *testing.T) {
	d := group.Description{Group: "g", State: group.Stable, ProtocolType: "consumer", Protocol: "range",
		LeaderID: "m1", Generation: 7, Members: []group.MemberDescription{
			{MemberID: "m1", InstanceID: "i1", ClientID: "c1", ClientHost: "/127.0.0.1", Metadata: []byte{1},
				Assignment: []byte{2}, SessionTimeout: 30 * time.Second, RebalanceTimeout: time.Minute},
			{MemberID: "m2", ClientID: "c2", ClientHost: "/127.0.0.2", Metadata: []byte{3}, Assignment: []byte{4},
				SessionTimeout: 10 * time.Second, RebalanceTimeout: 10 * time.Second},
		}}
	r := groupMetadataRecord(d, time.UnixMilli(1))
	got, isGroup, err := decodeGroupMetadata(r.Key, r.Value)
	require.NoError(t, err)
	require.True(t, isGroup)
	assert.Equal(t, d, got)

	tombstone := groupMetadataRecord(group.Description{Group: "g"}, time.UnixMilli(1))
	assert.Nil(t, tombstone.Value)
	got, isGroup, err = decodeGroupMetadata(tombstone.Key, tombstone.Value)
	require.NoError(t, err)
	assert.True(t, isGroup)
	assert.Equal(t, group.Description{Group: "g"}, got)

	commit := kmsg.OffsetCommitKey{Version: 1, Group: "g", Topic: "t"}
	_, isGroup, err = decodeGroupMetadata(commit.AppendTo(nil), []byte{0, 3})
	require.NoError(t, err)
	assert.False(t, isGroup, "a commit is not a membership")

	got, isGroup, err = decodeGroupMetadata(r.Key, r.Value[:len(r.Value)-3])
	require.ErrorIs(t, err, ErrCorrupt)
	assert.True(t, isGroup)
	assert.Equal(t, "g", got.Group, "a value that does not decode still names its group")
}

func FuzzDecodeGroupMetadata(f *testing.F) {
	r := groupMetadataRecord(group.Description{Group: "g", ProtocolType: "consumer", Protocol: "range", LeaderID: "m",
		Generation: 2, Members: []group.MemberDescription{{MemberID: "m", InstanceID: "i", SessionTimeout: time.Second}}},
		time.UnixMilli(1))
	f.Add(r.Key, r.Value)
	f.Add(r.Key, []byte(nil))
	f.Add([]byte{0, 2, 0, 1}, []byte{0, 3, 0, 0})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		d, isGroup, err := decodeGroupMetadata(key, value)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		if !isGroup || len(d.Members) == 0 {
			return
		}
		again := groupMetadataRecord(d, time.UnixMilli(1))
		back, _, err := decodeGroupMetadata(again.Key, again.Value)
		require.NoError(t, err)
		assert.Equal(t, d, back)
	})
}

// groupRequest sends one request to a node over the Kafka protocol.
func groupRequest[R kmsg.Response](t *testing.T, ctx context.Context, n *Node, req kmsg.Request) R {
	t.Helper()
	conn, err := kafka.Dial(ctx, n.Addr().String(), "test")
	require.NoError(t, err)
	defer conn.Close()
	resp, err := conn.Request(ctx, req)
	require.NoError(t, err)
	return resp.(R)
}

// joinAndSync makes a member of group g join and, if it leads, assign
// itself the assignment; it returns the member's ID and generation.
func joinAndSync(t *testing.T, ctx context.Context, n *Node, memberID, instanceID string, assignment []byte) (string, int32) {
	t.Helper()
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.MemberID, join.ProtocolType = "g", memberID, "consumer"
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 30_000, 30_000
	if instanceID != "" {
		join.InstanceID = &instanceID
	}
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 1}}}
	joined := groupRequest[*kmsg.JoinGroupResponse](t, ctx, n, join)
	if joined.ErrorCode == kerr.MemberIDRequired.Code {
		join.MemberID = joined.MemberID
		joined = groupRequest[*kmsg.JoinGroupResponse](t, ctx, n, join)
	}
	require.Zero(t, joined.ErrorCode, "join")
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.MemberID, sync.Generation, sync.InstanceID = "g", joined.MemberID, joined.Generation, join.InstanceID
	if joined.LeaderID == joined.MemberID {
		sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: joined.MemberID, MemberAssignment: assignment}}
	}
	synced := groupRequest[*kmsg.SyncGroupResponse](t, ctx, n, sync)
	require.Zero(t, synced.ErrorCode, "sync")
	assert.Equal(t, assignment, synced.MemberAssignment)
	return joined.MemberID, joined.Generation
}

// TestGroupMembershipSurvivesRestart: a node that restarts restores its
// groups from __consumer_offsets, as Kafka's coordinator does: a member
// goes on heartbeating in its generation, and the next rebalance follows
// it. A group that emptied stays empty.
func TestGroupMembershipSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, Listen: "127.0.0.1:0", Logger: discardLogger(), OffsetsTopicPartitions: 2}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	owned := []TopicPartition{{"t", 0}, {"t", 1}}
	assignment := encodeAssignment(owned)
	n, err := Open(cfg)
	require.NoError(t, err)
	memberID, generation := joinAndSync(t, ctx, n, "", "static-1", assignment)
	require.Equal(t, int32(1), generation)
	memberID, generation = joinAndSync(t, ctx, n, "", "static-1", assignment) // the member restarted
	require.Equal(t, int32(2), generation, "a leader's rejoin rebalances")
	require.NoError(t, n.Close())

	n, err = Open(cfg)
	require.NoError(t, err)
	defer n.Close() // closing twice is harmless
	heartbeat := kmsg.NewPtrHeartbeatRequest()
	heartbeat.Group, heartbeat.MemberID, heartbeat.Generation = "g", memberID, generation
	assert.Zero(t, groupRequest[*kmsg.HeartbeatResponse](t, ctx, n, heartbeat).ErrorCode,
		"the member goes on in its generation")
	described, err := n.DescribeGroup(t.Context(), "g")
	require.NoError(t, err)
	assert.Equal(t, "Stable", described.State)
	assert.Equal(t, generation, described.Generation)
	require.Len(t, described.Members, 1)
	assert.Equal(t, memberID, described.Members[0].MemberID)
	assert.Equal(t, "static-1", described.Members[0].InstanceID)
	assert.Equal(t, owned, described.Members[0].Assignment)

	rejoined, again := joinAndSync(t, ctx, n, "", "static-1", assignment)
	assert.Equal(t, generation+1, again, "the group goes on from its generation")

	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version, leave.Group = 3, "g"
	leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: rejoined, InstanceID: kmsg.StringPtr("static-1")}}
	require.Zero(t, groupRequest[*kmsg.LeaveGroupResponse](t, ctx, n, leave).ErrorCode)
	require.NoError(t, n.Close())

	n, err = Open(cfg)
	require.NoError(t, err)
	defer n.Close()
	_, err = n.DescribeGroup(t.Context(), "g")
	assert.ErrorIs(t, err, ErrGroupNotFound, "the group that emptied stays empty")
}

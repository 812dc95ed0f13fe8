package kafka

import (
	"context"
	"reflect"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka error codes the listener itself answers with.
const (
	codeUnknownServerError     int16 = -1
	codeUnknownTopic           int16 = 3
	codeUnsupportedVersion     int16 = 35
	codeInvalidRequest         int16 = 42
	codeFetchSessionIDNotFound int16 = 70
)

// handler serves one API: it returns the response, or nil when the client
// wants none (Produce with acks 0).
type handler struct {
	minVersion, maxVersion int16
	serve                  func(ctx context.Context, s *Server, req kmsg.Request) kmsg.Response
}

// handlers are the APIs served, by key. ApiVersions advertises exactly
// these.
var handlers map[int16]handler

func init() {
	handlers = map[int16]handler{
		int16(kmsg.Produce):     {3, 11, serveProduce},
		int16(kmsg.Fetch):       {4, 12, serveFetch},
		int16(kmsg.ListOffsets): {1, 7, serveListOffsets},
		int16(kmsg.Metadata):    {0, 12, serveMetadata},
		int16(kmsg.ApiVersions): {0, 4, serveAPIVersions},

		int16(kmsg.InitProducerID):  {0, 4, serveInitProducerID},
		int16(kmsg.FindCoordinator): {0, 4, serveFindCoordinator},
		int16(kmsg.JoinGroup):       {0, 9, serveJoinGroup},
		int16(kmsg.SyncGroup):       {0, 5, serveSyncGroup},
		int16(kmsg.Heartbeat):       {0, 4, serveHeartbeat},
		int16(kmsg.LeaveGroup):      {0, 5, serveLeaveGroup},
		int16(kmsg.OffsetCommit):    {2, 8, serveOffsetCommit},
		int16(kmsg.OffsetFetch):     {1, 7, serveOffsetFetch},

		int16(kmsg.CreateTopics):            {0, 7, serveCreateTopics},
		int16(kmsg.DeleteTopics):            {0, 6, serveDeleteTopics},
		int16(kmsg.CreatePartitions):        {0, 3, serveCreatePartitions},
		int16(kmsg.DescribeConfigs):         {0, 4, serveDescribeConfigs},
		int16(kmsg.IncrementalAlterConfigs): {0, 1, serveIncrementalAlterConfigs},
		int16(kmsg.DeleteRecords):           {0, 2, serveDeleteRecords},
		int16(kmsg.DescribeGroups):          {0, 5, serveDescribeGroups},
		int16(kmsg.ListGroups):              {0, 4, serveListGroups},
		int16(kmsg.DeleteGroups):            {0, 2, serveDeleteGroups},
		int16(kmsg.OffsetDelete):            {0, 0, serveOffsetDelete},
		int16(kmsg.OffsetForLeaderEpoch):    {0, 4, serveOffsetForLeaderEpoch},
		int16(kmsg.DescribeCluster):         {0, 1, serveDescribeCluster},
	}
}

// handle answers one request. A request the listener does not serve, or
// not at this version, gets the error response Kafka gives:
// UNSUPPORTED_VERSION in whatever top-level error field the response has.
// It returns nil for no response, and false when it cannot answer at all
// (the connection is then closed).
func (s *Server) handle(ctx context.Context, h requestHeader, req kmsg.Request) (kmsg.Response, bool) {
	hd, served := handlers[h.key]
	if req != nil && served && h.version >= hd.minVersion && h.version <= hd.maxVersion {
		return hd.serve(ctx, s, req), true
	}
	if h.key == int16(kmsg.ApiVersions) { // answered at version 0, so any client can read it
		resp := s.apiVersions(0)
		resp.ErrorCode = codeUnsupportedVersion
		return resp, true
	}
	resp := kmsg.ResponseForKey(h.key)
	if resp == nil || h.version > resp.MaxVersion() {
		return nil, false
	}
	resp.SetVersion(h.version)
	field := reflect.ValueOf(resp).Elem().FieldByName("ErrorCode")
	if !field.IsValid() || field.Kind() != reflect.Int16 {
		return nil, false
	}
	field.SetInt(int64(codeUnsupportedVersion))
	return resp, true
}

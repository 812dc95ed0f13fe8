package kafka

import (
	"context"
	"reflect"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handler serves one API. Most answer at once (serve). Produce starts
// (start): it appends in request order on the connection's reader, and
// returns the rest of its work, waiting for durability, which the
// connection's writer runs, so the next requests are read and appended
// meanwhile and one fsync covers them. Either returns nil when the client
// wants no response (Produce with acks 0).
type handler struct {
	minVersion, maxVersion int16
	serve                  func(ctx context.Context, s *Server, req kmsg.Request) kmsg.Response
	start                  func(ctx context.Context, s *Server, req kmsg.Request) (finish func() kmsg.Response)
}

// handlers are the APIs served, by key. ApiVersions advertises exactly
// these.
var handlers map[int16]handler

func init() {
	handlers = map[int16]handler{
		int16(kmsg.Produce):     {3, 13, nil, startProduce},
		int16(kmsg.Fetch):       {4, 16, serveFetch, nil},
		int16(kmsg.ListOffsets): {0, 7, serveListOffsets, nil},
		int16(kmsg.Metadata):    {0, 13, serveMetadata, nil},
		int16(kmsg.ApiVersions): {0, 4, serveAPIVersions, nil},

		int16(kmsg.SASLHandshake):    {0, 1, serveSASLOutOfPlace, nil}, // v0 advertised, as librdkafka looks for it; see handshake
		int16(kmsg.SASLAuthenticate): {0, 2, serveSASLOutOfPlace, nil},

		int16(kmsg.DescribeUserSCRAMCredentials): {0, 0, serveDescribeUserScramCredentials, nil},
		int16(kmsg.AlterUserSCRAMCredentials):    {0, 0, serveAlterUserScramCredentials, nil},

		int16(kmsg.DescribeACLs): {0, 3, serveDescribeACLs, nil},
		int16(kmsg.CreateACLs):   {0, 3, serveCreateACLs, nil},
		int16(kmsg.DeleteACLs):   {0, 3, serveDeleteACLs, nil},

		int16(kmsg.InitProducerID):  {0, 4, serveInitProducerID, nil},
		int16(kmsg.FindCoordinator): {0, 4, serveFindCoordinator, nil},
		int16(kmsg.JoinGroup):       {0, 9, serveJoinGroup, nil},
		int16(kmsg.SyncGroup):       {0, 5, serveSyncGroup, nil},
		int16(kmsg.Heartbeat):       {0, 4, serveHeartbeat, nil},
		int16(kmsg.LeaveGroup):      {0, 5, serveLeaveGroup, nil},
		int16(kmsg.OffsetCommit):    {2, 8, serveOffsetCommit, nil},
		int16(kmsg.OffsetFetch):     {1, 7, serveOffsetFetch, nil},

		int16(kmsg.AddPartitionsToTxn):   {0, 5, serveAddPartitionsToTxn, nil},
		int16(kmsg.AddOffsetsToTxn):      {0, 3, serveAddOffsetsToTxn, nil},
		int16(kmsg.EndTxn):               {0, 5, serveEndTxn, nil},
		int16(kmsg.WriteTxnMarkers):      {0, 1, serveWriteTxnMarkers, nil},
		int16(kmsg.TxnOffsetCommit):      {0, 5, serveTxnOffsetCommit, nil},
		int16(kmsg.DescribeTransactions): {0, 0, serveDescribeTransactions, nil},
		int16(kmsg.ListTransactions):     {0, 1, serveListTransactions, nil},
		int16(kmsg.DescribeProducers):    {0, 0, serveDescribeProducers, nil},

		int16(kmsg.CreateTopics):               {0, 7, serveCreateTopics, nil},
		int16(kmsg.DeleteTopics):               {0, 6, serveDeleteTopics, nil},
		int16(kmsg.CreatePartitions):           {0, 3, serveCreatePartitions, nil},
		int16(kmsg.DescribeConfigs):            {0, 4, serveDescribeConfigs, nil},
		int16(kmsg.AlterConfigs):               {0, 2, serveAlterConfigs, nil},
		int16(kmsg.IncrementalAlterConfigs):    {0, 1, serveIncrementalAlterConfigs, nil},
		int16(kmsg.DeleteRecords):              {0, 2, serveDeleteRecords, nil},
		int16(kmsg.DescribeGroups):             {0, 5, serveDescribeGroups, nil},
		int16(kmsg.ListGroups):                 {0, 4, serveListGroups, nil},
		int16(kmsg.DeleteGroups):               {0, 2, serveDeleteGroups, nil},
		int16(kmsg.OffsetDelete):               {0, 0, serveOffsetDelete, nil},
		int16(kmsg.OffsetForLeaderEpoch):       {0, 4, serveOffsetForLeaderEpoch, nil},
		int16(kmsg.DescribeCluster):            {0, 1, serveDescribeCluster, nil},
		int16(kmsg.AlterPartition):             {0, 1, serveAlterPartition, nil},
		int16(kmsg.ElectLeaders):               {0, 2, serveElectLeaders, nil},
		int16(kmsg.AlterPartitionAssignments):  {0, 0, serveAlterPartitionAssignments, nil},
		int16(kmsg.ListPartitionReassignments): {0, 0, serveListPartitionReassignments, nil},
	}
}

// handle starts answering one request and returns what finishes it.
// A request the listener does not serve, or not at this version, gets the
// error response Kafka gives: UNSUPPORTED_VERSION in whatever top-level
// error field the response has. It returns false when it cannot answer at
// all (the connection is then closed).
func (s *Server) handle(ctx context.Context, h requestHeader, req kmsg.Request) (finish func() kmsg.Response, ok bool) {
	hd, served := handlers[h.key]
	if req != nil && served && h.version >= hd.minVersion && h.version <= hd.maxVersion {
		if hd.start != nil {
			return hd.start(ctx, s, req), true
		}
		resp := hd.serve(ctx, s, req)
		return func() kmsg.Response { return resp }, true
	}
	resp := s.unsupported(h)
	return func() kmsg.Response { return resp }, resp != nil
}

// unsupported returns the error response to a request not served, or nil
// if the response has nowhere to say so.
func (s *Server) unsupported(h requestHeader) kmsg.Response {
	if h.key == int16(kmsg.ApiVersions) { // answered at version 0, so any client can read it
		resp := s.apiVersions(0)
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		return resp
	}
	resp := kmsg.ResponseForKey(h.key)
	if resp == nil || h.version > resp.MaxVersion() {
		return nil
	}
	resp.SetVersion(h.version)
	field := reflect.ValueOf(resp).Elem().FieldByName("ErrorCode")
	if !field.IsValid() || field.Kind() != reflect.Int16 {
		return nil
	}
	field.SetInt(int64(kerr.UnsupportedVersion.Code))
	return resp
}

package kafka

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersions, versions 0–4: the APIs in handlers, at the versions served,
// and from version 3 the features (KIP-584): transaction.version, which
// the server supports from 0 to 2 and has finalized at
// Config.TransactionVersion. A request at a higher version is answered at
// version 0 with UNSUPPORTED_VERSION and the same list, as Kafka does, so
// the client can retry at a version both know.

func serveAPIVersions(_ context.Context, s *Server, req kmsg.Request) kmsg.Response {
	return s.apiVersions(req.GetVersion())
}

func (s *Server) apiVersions(version int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(version)
	for key, h := range handlers {
		resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{
			ApiKey: key, MinVersion: h.minVersion, MaxVersion: h.maxVersion})
	}
	sort.Slice(resp.ApiKeys, func(i, j int) bool { return resp.ApiKeys[i].ApiKey < resp.ApiKeys[j].ApiKey })
	sf := kmsg.NewApiVersionsResponseSupportedFeature()
	sf.Name, sf.MinVersion, sf.MaxVersion = transactionVersionFeature, 0, 2
	resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	ff := kmsg.NewApiVersionsResponseFinalizedFeature()
	ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = transactionVersionFeature, s.cfg.TransactionVersion, s.cfg.TransactionVersion
	resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
	resp.FinalizedFeaturesEpoch = 1 // the features never change while the server runs
	return resp
}

// transactionVersionFeature is the feature that says which transactions
// the cluster serves: 2 is KIP-890's second part.
const transactionVersionFeature = "transaction.version"

package kafka

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersions, versions 0–4: the APIs in handlers, at the versions served.
// A request at a higher version is answered at version 0 with
// UNSUPPORTED_VERSION and the same list, as Kafka does, so the client can
// retry at a version both know.

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
	return resp
}

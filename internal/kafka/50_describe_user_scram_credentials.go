package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DescribeUserScramCredentials, version 0 (KIP-554): the SCRAM mechanisms
// and iteration counts of the named users, every user's when it names
// none; never a salt or a key. A user without credentials gets
// RESOURCE_NOT_FOUND, one named twice DUPLICATE_RESOURCE.
// With an authorizer, the request needs DESCRIBE on the cluster
// (CLUSTER_AUTHORIZATION_FAILED).

func serveDescribeUserScramCredentials(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if !s.mayCluster(ctx, acl.Describe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp
	}
	var names []string
	for _, u := range req.Users {
		names = append(names, u.Name)
	}
	users, errs := s.broker.DescribeScramUsers(names)
	for _, u := range users {
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User = u.User
		for i, m := range u.Mechanisms {
			info := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
			info.Mechanism, info.Iterations = m, u.Iterations[i]
			res.CredentialInfos = append(res.CredentialInfos, info)
		}
		resp.Results = append(resp.Results, res)
	}
	for _, name := range names {
		if err, ok := errs[name]; ok {
			res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
			res.User, res.ErrorCode, res.ErrorMessage = name, s.broker.ErrorCode(err), errorMessage(err)
			resp.Results = append(resp.Results, res)
			delete(errs, name) // once for a user named twice
		}
	}
	return resp
}

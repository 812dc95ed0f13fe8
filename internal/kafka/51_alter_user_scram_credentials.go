package kafka

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// AlterUserScramCredentials, version 0 (KIP-554): deletions and
// upsertions of users' SCRAM credentials, an upsertion carrying the salt,
// the iterations and the salted password the client computed (never the
// password). A result for each user named, its changes made together or
// not at all: UNACCEPTABLE_CREDENTIAL, UNSUPPORTED_SASL_MECHANISM,
// DUPLICATE_RESOURCE or RESOURCE_NOT_FOUND when refused.
// With an authorizer, the request needs ALTER on the cluster
// (CLUSTER_AUTHORIZATION_FAILED for every user).

func serveAlterUserScramCredentials(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	var deletions []ScramDeletion
	for _, d := range req.Deletions {
		deletions = append(deletions, ScramDeletion{User: d.Name, Mechanism: d.Mechanism})
	}
	var upsertions []ScramUpsertion
	for _, u := range req.Upsertions {
		upsertions = append(upsertions, ScramUpsertion{User: u.Name, Mechanism: u.Mechanism, Iterations: u.Iterations,
			Salt: u.Salt, SaltedPassword: u.SaltedPassword})
	}
	var results map[string]error
	if s.mayCluster(ctx, acl.Alter) {
		results = s.broker.AlterScramUsers(ctx, deletions, upsertions)
	} else {
		results = map[string]error{}
		for _, d := range deletions {
			results[d.User] = kerr.ClusterAuthorizationFailed
		}
		for _, u := range upsertions {
			results[u.User] = kerr.ClusterAuthorizationFailed
		}
	}
	users := make([]string, 0, len(results))
	for u := range results {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		res.User = u
		if err := results[u]; err != nil {
			res.ErrorCode, res.ErrorMessage = s.broker.ErrorCode(err), errorMessage(err)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp
}

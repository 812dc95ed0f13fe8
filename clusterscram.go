// SCRAM credentials in a cluster (issue 17): the committed metadata's,
// which every node's SASL listeners authenticate against; changed on the
// controller's leader, to which the other nodes forward
// AlterUserScramCredentials, and seeded once from the leader's
// SASLConfig.ScramUsers.

package creek

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/controller"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/sasl"
)

// clusterScramStore returns the SCRAM store of a cluster node: the
// committed metadata's credentials in place of a file of its own, once
// the node has caught up with them (a restarted node's are stale until
// then) and, when it has seed users, once the cluster is seeded (a new
// cluster's first authentications would fail otherwise); within
// catchUpWait, else with what it has.
func (n *Node) clusterScramStore() *scramStore {
	return &scramStore{max: maxScramCredentials, committed: func() sasl.Credentials {
		c := n.controller
		if c == nil { // before it joined: no listener serves yet
			return sasl.Credentials{}
		}
		c.awaitMetadata(catchUpWait, func() bool { return c.registered() && n.scramSeeded() })
		if !c.registered() {
			return sasl.Credentials{}
		}
		return c.fsm.Metadata().Credentials()
	}}
}

// scramSeeded reports whether the cluster's SCRAM credentials are seeded,
// or this node has no seed users to wait for.
func (n *Node) scramSeeded() bool {
	meta := n.controller.fsm.Metadata()
	return n.cfg.SASL == nil || len(n.cfg.SASL.ScramUsers) == 0 || meta.Scram != nil && meta.Scram.Seeded
}

// alterClusterScram applies SCRAM credential changes to the cluster's:
// on the controller's leader, checked against the committed credentials
// and committed as one AlterScram; elsewhere, forwarded to the leader.
func (n *Node) alterClusterScram(ctx context.Context, deletions []kafka.ScramDeletion,
	upsertions []kafka.ScramUpsertion) map[string]error {
	out, edits := parseScram(deletions, upsertions)
	if len(edits) == 0 {
		return out
	}
	failAll := func(err error) map[string]error {
		for user := range edits {
			out[user] = err
		}
		return out
	}
	leader, err := n.controller.awaitLeader(ctx)
	if err != nil {
		return failAll(err)
	}
	if leader != n.nodeID() {
		return n.forwardAlterScram(ctx, deletions, upsertions)
	}
	n.scramAlters.Lock() // each alteration checked against the ones committed before it
	defer n.scramAlters.Unlock()
	checkScram(n.controller.fsm.Metadata().Credentials(), n.scram.max, out, edits)
	if len(edits) == 0 {
		return out
	}
	cmd := &controller.AlterScram{Max: n.scram.max}
	set := sasl.Credentials{}
	for user, e := range edits {
		for _, c := range e.set {
			set.Set(user, c)
		}
		for _, m := range e.delete {
			cmd.Delete = append(cmd.Delete, controller.ScramKey{User: user, Mechanism: int8(m)})
		}
	}
	cmd.Set = set.Marshal()
	if err := n.controller.propose(ctx, controller.Command{AlterScram: cmd}); err != nil {
		return failAll(err)
	}
	return out
}

// forwardAlterScram asks the controller's leader to apply SCRAM
// credential changes, and returns its answer for each user.
func (n *Node) forwardAlterScram(ctx context.Context, deletions []kafka.ScramDeletion,
	upsertions []kafka.ScramUpsertion) map[string]error {
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	out := map[string]error{}
	for _, d := range deletions {
		rd := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
		rd.Name, rd.Mechanism = d.User, d.Mechanism
		req.Deletions = append(req.Deletions, rd)
		out[d.User] = nil
	}
	for _, u := range upsertions {
		ru := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		ru.Name, ru.Mechanism, ru.Iterations, ru.Salt, ru.SaltedPassword = u.User, u.Mechanism, u.Iterations, u.Salt,
			u.SaltedPassword
		req.Upsertions = append(req.Upsertions, ru)
		out[u.User] = nil
	}
	resp, err := n.askController(ctx, req)
	for user := range out {
		out[user] = err
	}
	if err != nil {
		return out
	}
	for _, r := range resp.(*kmsg.AlterUserSCRAMCredentialsResponse).Results {
		if _, asked := out[r.User]; asked {
			out[r.User] = errorForCode(r.ErrorCode, fmt.Sprintf("alter %q's SCRAM credentials on the controller", r.User))
		}
	}
	return out
}

// seedScram, on the controller's leader, gives a cluster that has never
// had SCRAM credentials this node's SASLConfig.ScramUsers, as Kafka's
// storage tool adds users when it formats a cluster, and reports whether
// nothing is left to do. Once the cluster has had credentials, seeding
// changes nothing: a user an administrator deleted does not come back
// with the next leader.
func (c *clusterController) seedScram() bool {
	if c.n.scramSeeded() {
		return true
	}
	creds, err := seedCredentials(c.n.cfg.SASL.ScramUsers)
	if err != nil {
		c.n.log.Error("could not derive the SCRAM credentials of SASLConfig.ScramUsers", "err", err)
		return true // it would fail again
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.propose(ctx, controller.Command{SeedScram: &controller.SeedScram{Creds: creds.Marshal()}}) == nil
}

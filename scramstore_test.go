package creek

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/sasl"
)

// scramClient connects to n's listener as user with SCRAM-SHA-512, or
// SCRAM-SHA-256 when sha256 is set.
func scramClient(t *testing.T, n *Node, user, password string, sha256 bool) *kgo.Client {
	t.Helper()
	mechanism := scram.Auth{User: user, Pass: password}.AsSha512Mechanism()
	if sha256 {
		mechanism = scram.Auth{User: user, Pass: password}.AsSha256Mechanism()
	}
	return securedClient(t, n, nil, mechanism)
}

// TestScramUsersManagedOverKafka: SCRAM users are added, described and
// removed with AlterUserScramCredentials and DescribeUserScramCredentials
// (kadm's calls), take effect at the next authentication, and outlast a
// restart; requests Kafka refuses are refused with its codes.
func TestScramUsersManagedOverKafka(t *testing.T) {
	cfg := Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", SASL: &SASLConfig{}, Logger: discardLogger()}
	n, err := Open(cfg)
	require.NoError(t, err)
	defer func() { n.Close() }()
	require.NoError(t, n.SetScramPassword(t.Context(), "admin", "root-pw"))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	admin := kadm.NewClient(scramClient(t, n, "admin", "root-pw", false))

	altered, err := admin.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: "carol", Mechanism: kadm.ScramSha256, Iterations: 8192, Password: "c-pw"}})
	require.NoError(t, err)
	require.NoError(t, altered.Error())
	require.NoError(t, scramClient(t, n, "carol", "c-pw", true).Ping(ctx), "carol authenticates at once")
	require.ErrorIs(t, scramClient(t, n, "carol", "c-pw", false).Ping(ctx), kerr.SaslAuthenticationFailed,
		"carol has no SCRAM-SHA-512 credential")

	described, err := admin.DescribeUserSCRAMs(ctx)
	require.NoError(t, err)
	require.NoError(t, described.Error())
	assert.Equal(t, []kadm.CredInfo{{Mechanism: kadm.ScramSha256, Iterations: 4096}, {Mechanism: kadm.ScramSha512, Iterations: 4096}},
		described["admin"].CredInfos)
	assert.Equal(t, []kadm.CredInfo{{Mechanism: kadm.ScramSha256, Iterations: 8192}}, described["carol"].CredInfos)
	described, err = admin.DescribeUserSCRAMs(ctx, "nobody")
	require.NoError(t, err)
	assert.ErrorIs(t, described["nobody"].Err, kerr.ResourceNotFound)

	raw := func(req *kmsg.AlterUserSCRAMCredentialsRequest) map[string]int16 {
		t.Helper()
		resp, err := req.RequestWith(ctx, scramClient(t, n, "admin", "root-pw", false))
		require.NoError(t, err)
		out := map[string]int16{}
		for _, r := range resp.Results {
			out[r.User] = r.ErrorCode
		}
		return out
	}
	upsert := func(user string, mechanism int8, iterations int32, salted []byte) kmsg.AlterUserSCRAMCredentialsRequestUpsertion {
		u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		u.Name, u.Mechanism, u.Iterations, u.Salt, u.SaltedPassword = user, mechanism, iterations, []byte("salt"), salted
		return u
	}
	del := func(user string, mechanism int8) kmsg.AlterUserSCRAMCredentialsRequestDeletion {
		d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
		d.Name, d.Mechanism = user, mechanism
		return d
	}
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Upsertions = []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{
		upsert("m3", 3, 4096, make([]byte, 32)),
		upsert("few", 1, 100, make([]byte, 32)),
		upsert("short", 1, 4096, make([]byte, 5)),
		upsert("twice", 1, 4096, make([]byte, 32)), upsert("twice", 1, 4096, make([]byte, 32)),
		upsert("fine", 1, 4096, make([]byte, 32)),
	}
	req.Deletions = []kmsg.AlterUserSCRAMCredentialsRequestDeletion{del("ghost", 1), del("carol", 2)}
	assert.Equal(t, map[string]int16{
		"m3": kerr.UnsupportedSaslMechanism.Code, "few": kerr.UnacceptableCredential.Code,
		"short": kerr.UnacceptableCredential.Code, "twice": kerr.DuplicateResource.Code,
		"ghost": kerr.ResourceNotFound.Code, "carol": kerr.ResourceNotFound.Code, "fine": 0,
	}, raw(req))
	require.NoError(t, scramClient(t, n, "carol", "c-pw", true).Ping(ctx), "a refused change leaves carol as she was")

	altered, err = admin.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: "carol", Mechanism: kadm.ScramSha256}}, nil)
	require.NoError(t, err)
	require.NoError(t, altered.Error())
	assert.ErrorIs(t, scramClient(t, n, "carol", "c-pw", true).Ping(ctx), kerr.SaslAuthenticationFailed, "carol is gone")

	require.NoError(t, n.Close())
	n, err = Open(cfg)
	require.NoError(t, err)
	require.NoError(t, scramClient(t, n, "admin", "root-pw", false).Ping(ctx), "the credentials outlast a restart")
	described, err = kadm.NewClient(scramClient(t, n, "admin", "root-pw", true)).DescribeUserSCRAMs(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"admin", "fine"}, func() (users []string) {
		for u := range described {
			users = append(users, u)
		}
		return users
	}())
}

// TestScramUsersSeedTheFirstOpen: SASLConfig.ScramUsers are given their
// credentials when the directory is new, as Kafka's storage tool adds
// users when it formats one; a user deleted after that stays deleted.
func TestScramUsersSeedTheFirstOpen(t *testing.T) {
	cfg := Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", SASL: &SASLConfig{ScramUsers: map[string]string{"alice": "pw"}},
		Logger: discardLogger()}
	n, err := Open(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, scramClient(t, n, "alice", "pw", false).Ping(ctx))
	require.NoError(t, n.DeleteScramUser(t.Context(), "alice"))
	require.NoError(t, n.SetScramPassword(t.Context(), "bob", "pw"))
	require.NoError(t, n.Close())
	n, err = Open(cfg)
	require.NoError(t, err)
	defer n.Close()
	assert.ErrorIs(t, scramClient(t, n, "alice", "pw", false).Ping(ctx), kerr.SaslAuthenticationFailed)
	assert.NoError(t, scramClient(t, n, "bob", "pw", true).Ping(ctx))
	assert.Error(t, n.SetScramPassword(t.Context(), "", "pw"))
}

// TestScramCredentialsBounded: upsertions past the store's bound
// (maxScramCredentials; ten here) are
// refused with POLICY_VIOLATION, whole users at a time; changing a
// credential that exists, or deleting, is not.
func TestScramCredentialsBounded(t *testing.T) {
	fs := fsx.NewMem()
	require.NoError(t, fs.MkdirAll("/n", 0o755))
	s, err := openScramStore(fs, "/n", nil)
	require.NoError(t, err)
	s.max = 10
	for i := range s.max - 1 {
		cred, err := sasl.ScramCredentialFromSalted(sasl.ScramSHA256, []byte("s"), 4096, make([]byte, 32))
		require.NoError(t, err)
		s.creds.Set(fmt.Sprint("u", i), cred)
	}
	up := func(user string, m int8) kafka.ScramUpsertion {
		return kafka.ScramUpsertion{User: user, Mechanism: m, Iterations: 4096, Salt: []byte("s"), SaltedPassword: make([]byte, 32*int(m))}
	}
	got := s.alter(nil, []kafka.ScramUpsertion{up("new", 1), up("new", 2)})
	assert.ErrorIs(t, got["new"], kerr.PolicyViolation, "two more would pass the bound")
	got = s.alter(nil, []kafka.ScramUpsertion{up("u0", 1), up("last", 1)})
	assert.NoError(t, got["u0"], "a change of one it has")
	assert.NoError(t, got["last"], "the last one within the bound")
	got = s.alter(nil, []kafka.ScramUpsertion{up("more", 1)})
	assert.ErrorIs(t, got["more"], kerr.PolicyViolation)
	got = s.alter([]kafka.ScramDeletion{{User: "u1", Mechanism: 1}}, []kafka.ScramUpsertion{up("u1", 2)})
	assert.NoError(t, got["u1"], "a user's own swap adds nothing")
	assert.Equal(t, s.max, s.creds.Count())
}

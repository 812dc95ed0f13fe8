package group_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/group"
)

// recordingStore is a Config.Store that keeps every description it gets,
// and can be held (each call waits until release) or made to fail.
type recordingStore struct {
	mu      sync.Mutex
	stored  []group.Description
	fail    error
	hold    chan struct{} // non-nil: calls wait for it to close
	holding int           // calls waiting on hold
}

func (s *recordingStore) store(ctx context.Context, d group.Description) error {
	s.mu.Lock()
	hold, fail := s.hold, s.fail
	s.holding++
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holding--
	if fail != nil {
		return fail
	}
	s.stored = append(s.stored, d)
	return nil
}

func (s *recordingStore) last(t *testing.T) group.Description {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.stored, "nothing stored")
	return s.stored[len(s.stored)-1]
}

func (s *recordingStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stored)
}

// No member learns its assignment before the group's membership is
// stored, and what is stored is the stable group with every assignment.
func TestStore_AssignmentStoredBeforeMembersLearnIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &recordingStore{hold: make(chan struct{})}
		cfg := delayed
		cfg.Store = s.store
		c := newCoordinator(t, cfg)
		ja, jb := goJoin(t.Context(), c, joinReq("g", "a")), goJoin(t.Context(), c, joinReq("g", "b"))
		time.Sleep(initialDelay)
		a, b := ready(t, ja).resp, ready(t, jb).resp
		leader, follower := a, b
		if b.MemberID == b.LeaderID {
			leader, follower = b, a
		}
		assignments := map[string][]byte{a.MemberID: assignmentFor("a"), b.MemberID: assignmentFor("b")}
		fs := goSync(t.Context(), c, syncReq("g", follower, nil))
		ls := goSync(t.Context(), c, syncReq("g", leader, assignments))
		blocked(t, fs)
		blocked(t, ls)
		require.Equal(t, group.CompletingRebalance, c.Describe("g").State, "stable only once stored")

		close(s.hold)
		require.NoError(t, ready(t, fs).err)
		require.NoError(t, ready(t, ls).err)
		stored := s.last(t)
		require.Equal(t, group.Stable, stored.State)
		require.Equal(t, int32(1), stored.Generation)
		require.Equal(t, leader.MemberID, stored.LeaderID)
		require.Equal(t, "range", stored.Protocol)
		require.Len(t, stored.Members, 2)
		for _, m := range stored.Members {
			require.Equal(t, assignments[m.MemberID], m.Assignment)
			require.Equal(t, sessionTimeout, m.SessionTimeout)
		}
		require.Equal(t, c.Describe("g"), stored)
	})
}

// A failed store fails every waiting member's sync with its error, and
// the group rebalances rather than serving an assignment a new
// coordinator would not know.
func TestStore_FailedStoreRebalances(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &recordingStore{fail: group.ErrNotCoordinator}
		c := newCoordinator(t, group.Config{Store: s.store})
		req := joinReq("g", "a")
		resp, err := joinNow(t, c, req)
		require.NoError(t, err)
		_, err = syncNow(t, c, syncReq("g", resp, map[string][]byte{resp.MemberID: assignmentFor("a")}))
		require.ErrorIs(t, err, group.ErrNotCoordinator)
		require.Equal(t, group.PreparingRebalance, c.Describe("g").State)

		s.mu.Lock()
		s.fail = nil
		s.mu.Unlock()
		resp, err = joinNow(t, c, rejoin(req, resp))
		require.NoError(t, err)
		require.Equal(t, int32(2), resp.Generation)
		_, err = syncNow(t, c, syncReq("g", resp, map[string][]byte{resp.MemberID: assignmentFor("a")}))
		require.NoError(t, err)
		require.Equal(t, int32(2), s.last(t).Generation)
	})
}

// A coordinator that restores a stored group serves its members in the
// same generation: they heartbeat and commit without a rebalance, and a
// member that never comes back expires after its session timeout.
func TestRestore_MembersGoOnInTheStoredGeneration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &recordingStore{}
		cfg := delayed
		cfg.Store = s.store
		old := newCoordinator(t, cfg)
		static := joinReq("g", "b")
		static.InstanceID = "instance-b"
		resps := formGroup(t, old, joinReq("g", "a"), static)
		stored := s.last(t)

		c := newCoordinator(t, group.Config{Store: s.store})
		c.Restore(stored)
		require.Equal(t, stored, c.Describe("g"))
		a, b := identity(resps[0]), identity(resps[1])
		b.InstanceID = "instance-b"
		require.NoError(t, c.Heartbeat("g", a))
		require.NoError(t, c.ValidateCommit("g", b))
		assignment, err := syncNow(t, c, syncReq("g", resps[0], nil))
		require.NoError(t, err)
		require.Equal(t, assignmentFor("a"), assignment, "a stable group answers a sync at once")

		// The static member restarts: it takes over its instance without a
		// rebalance, and the new member ID is stored.
		restarted, err := joinNow(t, c, static)
		require.NoError(t, err)
		require.Equal(t, int32(1), restarted.Generation)
		synctest.Wait()
		require.Contains(t, memberIDs(s.last(t)), restarted.MemberID)
		require.NotContains(t, memberIDs(s.last(t)), resps[1].MemberID)

		// a stops heartbeating; b goes on. a expires, and b must rejoin.
		for range 3 {
			time.Sleep(sessionTimeout / 3)
			require.NoError(t, c.Heartbeat("g", identity(restarted)))
		}
		time.Sleep(sessionTimeout / 3)
		synctest.Wait()
		require.ErrorIs(t, c.Heartbeat("g", identity(restarted)), group.ErrRebalanceInProgress)
		require.ErrorIs(t, c.Heartbeat("g", a), group.ErrUnknownMemberID)
	})
}

// A stored group that empties is stored without members, so that a new
// coordinator does not restore members that left.
func TestStore_EmptiedGroupStoredWithoutMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &recordingStore{}
		c := newCoordinator(t, group.Config{Store: s.store})
		resp := formGroup(t, c, joinReq("g", "a"))[0]
		require.NoError(t, c.Leave("g", identity(resp)))
		synctest.Wait()
		require.Empty(t, s.last(t).Members)
		require.Equal(t, group.Dead, c.Describe("g").State)

		// A group that was never stored is not stored when it empties.
		before := s.count()
		_, err := joinNow(t, c, joinReq("never-synced", "x"))
		require.NoError(t, err)
		time.Sleep(sessionTimeout)
		synctest.Wait()
		require.Equal(t, before, s.count())
	})
}

// Stores of one group land in the order of the changes they record: the
// store of a group that emptied while its assignment was being stored
// comes last.
func TestStore_StoresLandInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &recordingStore{}
		c := newCoordinator(t, group.Config{Store: s.store})
		req := joinReq("g", "a")
		resp, err := joinNow(t, c, req)
		require.NoError(t, err)

		// The leader's store is held; meanwhile the member leaves, and the
		// emptied group's store queues behind it.
		s.mu.Lock()
		s.hold = make(chan struct{})
		s.mu.Unlock()
		ls := goSync(t.Context(), c, syncReq("g", resp, map[string][]byte{resp.MemberID: assignmentFor("a")}))
		blocked(t, ls)
		require.NoError(t, c.Leave("g", identity(resp)))
		close(s.hold)
		require.ErrorIs(t, ready(t, ls).err, group.ErrUnknownMemberID)
		synctest.Wait()
		require.Equal(t, 2, s.count())
		require.Empty(t, s.last(t).Members, "the emptied group is the last word")
	})
}

// Close ends a store under way.
func TestStore_CloseEndsStores(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &recordingStore{hold: make(chan struct{})}
		c := newCoordinator(t, group.Config{Store: s.store})
		resp, err := joinNow(t, c, joinReq("g", "a"))
		require.NoError(t, err)
		ls := goSync(t.Context(), c, syncReq("g", resp, map[string][]byte{resp.MemberID: assignmentFor("a")}))
		blocked(t, ls)
		c.Close()
		r := ready(t, ls)
		require.True(t, errors.Is(r.err, group.ErrClosed) || errors.Is(r.err, group.ErrRebalanceInProgress), r.err)
	})
}

package group_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/group"
)

func TestSession_ExpiredMemberIsRemovedAndOthersRebalance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCoordinator(t, delayed)
		a, b := joinReq("g", "a"), joinReq("g", "b")
		resps := formGroup(t, c, a, b)
		ra, rb := resps[0], resps[1]

		// a heartbeats every 3s; b has stopped.
		for range 3 {
			time.Sleep(3 * time.Second)
			require.NoError(t, c.Heartbeat("g", identity(ra)))
		}
		require.Equal(t, group.Stable, c.Describe("g").State, "b's session (10s) has not ended at 9s")
		time.Sleep(2 * time.Second) // 11s
		d := c.Describe("g")
		require.Equal(t, group.PreparingRebalance, d.State)
		require.Equal(t, []string{ra.MemberID}, memberIDs(d))

		require.ErrorIs(t, c.Heartbeat("g", identity(ra)), group.ErrRebalanceInProgress)
		ra2, err := joinNow(t, c, rejoin(a, ra))
		require.NoError(t, err)
		require.EqualValues(t, 2, ra2.Generation)
		require.Equal(t, ra.MemberID, ra2.LeaderID)
		require.Equal(t, []group.Member{{MemberID: ra.MemberID, Metadata: metadata("a", "range")}}, ra2.Members)

		require.ErrorIs(t, c.Heartbeat("g", identity(rb)), group.ErrUnknownMemberID)
		require.ErrorIs(t, c.ValidateCommit("g", identity(rb)), group.ErrUnknownMemberID)
		_, err = joinNow(t, c, rejoin(b, rb))
		require.ErrorIs(t, err, group.ErrUnknownMemberID)

		syncGroup(t, c, []group.JoinRequest{a}, []group.JoinResponse{ra2})
		require.EqualValues(t, 2, c.Describe("g").Generation)
		c.Close()
	})
}

func TestSession_EndsExactlyAtSessionTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCoordinator(t, group.Config{})
		r := formGroup(t, c, joinReq("g", "a"))[0]
		time.Sleep(sessionTimeout - time.Millisecond)
		synctest.Wait()
		require.Equal(t, []string{"g"}, c.Groups())
		time.Sleep(time.Millisecond)
		synctest.Wait()
		require.Empty(t, c.Groups())
		require.Equal(t, group.Dead, c.Describe("g").State)
		require.ErrorIs(t, c.Heartbeat("g", identity(r)), group.ErrUnknownMemberID)
		c.Close()
	})
}

func TestSession_KeptAliveByRequestsMoreFrequentThanTimeout(t *testing.T) {
	tests := []struct {
		name  string
		touch func(t *testing.T, c *group.Coordinator, r group.JoinResponse) error
	}{
		{name: "heartbeats", touch: func(t *testing.T, c *group.Coordinator, r group.JoinResponse) error {
			return c.Heartbeat("g", identity(r))
		}},
		{name: "offset commits", touch: func(t *testing.T, c *group.Coordinator, r group.JoinResponse) error {
			return c.ValidateCommit("g", identity(r))
		}},
		{name: "syncs", touch: func(t *testing.T, c *group.Coordinator, r group.JoinResponse) error {
			_, err := syncNow(t, c, syncReq("g", r, nil))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCoordinator(t, delayed)
				resps := formGroup(t, c, joinReq("g", "a"), joinReq("g", "b"))
				const interval = sessionTimeout - time.Second
				for i := range 12 { // more than ten session timeouts
					time.Sleep(interval)
					for _, r := range resps {
						require.NoError(t, tt.touch(t, c, r), "round %d", i)
					}
				}
				d := c.Describe("g")
				require.Equal(t, group.Stable, d.State)
				require.EqualValues(t, 1, d.Generation)
				require.Len(t, d.Members, 2)

				// Silence ends both sessions.
				time.Sleep(sessionTimeout + time.Millisecond)
				require.Equal(t, group.Dead, c.Describe("g").State)
				c.Close()
			})
		})
	}
}

func TestSession_MemberWaitingInJoinOrSyncDoesNotExpire(t *testing.T) {
	t.Run("join", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newCoordinator(t, group.Config{})
			a := joinReq("g", "a")
			ra := formGroup(t, c, a)[0]
			b := joinReq("g", "b")
			b.RebalanceTimeout = time.Minute
			bw := goJoin(t.Context(), c, b) // waits for a, up to a minute
			for range 8 {                   // 40s: four of b's session timeouts
				time.Sleep(5 * time.Second)
				require.ErrorIs(t, c.Heartbeat("g", identity(ra)), group.ErrRebalanceInProgress)
			}
			blocked(t, bw)
			require.Len(t, c.Describe("g").Members, 2)
			ra2, err := joinNow(t, c, rejoin(a, ra))
			require.NoError(t, err)
			rb := ready(t, bw)
			require.NoError(t, rb.err)
			require.EqualValues(t, 2, rb.resp.Generation)
			require.Len(t, ra2.Members, 2)
			c.Close()
		})
	})
	t.Run("sync", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newCoordinator(t, delayed)
			aw := goJoin(t.Context(), c, joinReq("g", "a"))
			synctest.Wait()
			bw := goJoin(t.Context(), c, joinReq("g", "b"))
			time.Sleep(initialDelay)
			ra, rb := ready(t, aw).resp, ready(t, bw).resp
			fs := goSync(t.Context(), c, syncReq("g", rb, nil))
			for range 8 { // the leader heartbeats but takes 40s to assign
				time.Sleep(5 * time.Second)
				require.NoError(t, c.Heartbeat("g", identity(ra)))
			}
			blocked(t, fs)
			require.Len(t, c.Describe("g").Members, 2)
			_, err := syncNow(t, c, syncReq("g", ra, map[string][]byte{rb.MemberID: []byte("b's")}))
			require.NoError(t, err)
			r := ready(t, fs)
			require.NoError(t, r.err)
			require.Equal(t, []byte("b's"), r.assignment)
			c.Close()
		})
	})
}

// A member that got its JoinGroup response and then fell silent (no
// SyncGroup, no heartbeat) must still expire after its session timeout.
// completeJoinLocked calls touchLocked while m.joining is still set, so no
// session timer starts for the members it answers.
func TestSession_MemberSilentAfterItsJoinResponseExpires(t *testing.T) {
	// joinGeneration1 forms generation 1 of a and b, without syncing.
	joinGeneration1 := func(t *testing.T, c *group.Coordinator) (leader, follower group.JoinResponse) {
		aw := goJoin(t.Context(), c, joinReq("g", "a"))
		synctest.Wait()
		bw := goJoin(t.Context(), c, joinReq("g", "b"))
		time.Sleep(initialDelay)
		ra, rb := ready(t, aw), ready(t, bw)
		require.NoError(t, ra.err)
		require.NoError(t, rb.err)
		require.Equal(t, ra.resp.MemberID, ra.resp.LeaderID)
		return ra.resp, rb.resp
	}

	t.Run("leader never syncs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newCoordinator(t, delayed)
			_, rb := joinGeneration1(t, c)
			fs := goSync(t.Context(), c, syncReq("g", rb, nil))
			time.Sleep(sessionTimeout + time.Second)
			synctest.Wait()
			select {
			case r := <-fs:
				require.ErrorIs(t, r.err, group.ErrRebalanceInProgress)
			default:
				t.Error("the follower's Sync still waits for a leader whose session should have ended")
			}
			require.Equal(t, []string{rb.MemberID}, memberIDs(c.Describe("g")))
			c.Close()
		})
	})
	t.Run("follower never syncs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newCoordinator(t, delayed)
			ra, rb := joinGeneration1(t, c)
			_, err := syncNow(t, c, syncReq("g", ra, map[string][]byte{ra.MemberID: []byte("x"), rb.MemberID: []byte("y")}))
			require.NoError(t, err)
			for range 4 { // 12s
				time.Sleep(3 * time.Second)
				err = c.Heartbeat("g", identity(ra))
			}
			require.ErrorIs(t, err, group.ErrRebalanceInProgress, "the follower's session should have ended")
			require.Equal(t, []string{ra.MemberID}, memberIDs(c.Describe("g")))
			c.Close()
		})
	})
	t.Run("member abandons its join", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newCoordinator(t, group.Config{})
			a := joinReq("g", "a")
			ra := formGroup(t, c, a)[0]
			ctx, cancel := context.WithCancel(t.Context())
			bw := goJoin(ctx, c, joinReq("g", "b"))
			blocked(t, bw)
			cancel()
			require.ErrorIs(t, ready(t, bw).err, context.Canceled)
			// b stays a member that has joined; a rejoins and generation 2 holds both.
			ra2, err := joinNow(t, c, rejoin(a, ra))
			require.NoError(t, err)
			require.Len(t, ra2.Members, 2)
			_, err = syncNow(t, c, syncReq("g", ra2, nil))
			require.NoError(t, err)
			for range 4 { // 12s
				time.Sleep(3 * time.Second)
				err = c.Heartbeat("g", identity(ra2))
			}
			require.ErrorIs(t, err, group.ErrRebalanceInProgress, "b's session should have ended")
			require.Equal(t, []string{ra.MemberID}, memberIDs(c.Describe("g")))
			c.Close()
		})
	})
}

func TestRebalance_TimeoutEndsJoinPhaseWithoutMembersThatDidNotRejoin(t *testing.T) {
	tests := []struct {
		name       string
		instanceID string // of the member that does not rejoin
	}{
		{name: "dynamic member is removed"},
		{name: "static member stays", instanceID: "i-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCoordinator(t, delayed)
				long := func(req group.JoinRequest) group.JoinRequest {
					req.SessionTimeout, req.RebalanceTimeout = time.Minute, rebalanceTimeout
					return req
				}
				a, b, x := long(joinReq("g", "a")), long(joinReq("g", "b")), long(joinReq("g", "x"))
				b.InstanceID = tt.instanceID
				resps := formGroup(t, c, a, b)
				ra, rb := resps[0], resps[1]

				xw := goJoin(t.Context(), c, x)
				blocked(t, xw)
				require.ErrorIs(t, c.Heartbeat("g", identity(ra)), group.ErrRebalanceInProgress)
				aw := goJoin(t.Context(), c, rejoin(a, ra))
				// b never rejoins.
				time.Sleep(rebalanceTimeout - time.Millisecond)
				blocked(t, aw)
				blocked(t, xw)
				require.Equal(t, group.PreparingRebalance, c.Describe("g").State)
				require.Len(t, c.Describe("g").Members, 3)

				time.Sleep(time.Millisecond)
				ra2, rx := ready(t, aw), ready(t, xw)
				require.NoError(t, ra2.err)
				require.NoError(t, rx.err)
				require.EqualValues(t, 2, ra2.resp.Generation)
				require.EqualValues(t, 2, rx.resp.Generation)
				require.Equal(t, ra.MemberID, ra2.resp.LeaderID)
				require.Equal(t, ra.MemberID, rx.resp.LeaderID)

				d := c.Describe("g")
				require.Equal(t, group.CompletingRebalance, d.State)
				if tt.instanceID == "" {
					require.Equal(t, []string{ra.MemberID, rx.resp.MemberID}, memberIDs(d))
					require.Equal(t, []string{ra.MemberID, rx.resp.MemberID}, leaderMembers(ra2.resp))
					require.ErrorIs(t, c.Heartbeat("g", identity(rb)), group.ErrUnknownMemberID)
					syncGroup(t, c, []group.JoinRequest{a, x}, []group.JoinResponse{ra2.resp, rx.resp})
				} else {
					// Kafka keeps a static member that misses a rebalance: the
					// leader assigns it, and it learns the generation by rejoining.
					require.Equal(t, []string{ra.MemberID, rb.MemberID, rx.resp.MemberID}, memberIDs(d))
					require.Equal(t, []string{ra.MemberID, rb.MemberID, rx.resp.MemberID}, leaderMembers(ra2.resp))
					require.ErrorIs(t, c.Heartbeat("g", group.Identity{MemberID: rb.MemberID, InstanceID: "i-b", Generation: 1}),
						group.ErrIllegalGeneration)
				}
				c.Close()
			})
		})
	}
}

func leaderMembers(resp group.JoinResponse) []string {
	var ids []string
	for _, m := range resp.Members {
		ids = append(ids, m.MemberID)
	}
	return ids
}

func TestSession_UnusedPendingMemberIDIsForgotten(t *testing.T) {
	tests := []struct {
		name     string
		existing bool // the group has a member
		wait     time.Duration
		wantErr  error
	}{
		{name: "used in time, new group", wait: sessionTimeout - time.Millisecond},
		{name: "expired, new group", wait: sessionTimeout + time.Millisecond, wantErr: group.ErrUnknownMemberID},
		{name: "used in time, existing group", existing: true, wait: sessionTimeout - time.Millisecond},
		{name: "expired, existing group", existing: true, wait: sessionTimeout + time.Millisecond, wantErr: group.ErrUnknownMemberID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCoordinator(t, group.Config{})
				if tt.existing {
					a := joinReq("g", "a")
					a.SessionTimeout = 20 * time.Minute
					formGroup(t, c, a)
				}
				req := joinReq("g", "b")
				req.RequireKnownMemberID = true
				resp, err := joinNow(t, c, req)
				require.ErrorIs(t, err, group.ErrMemberIDRequired)

				time.Sleep(tt.wait)
				synctest.Wait()
				if !tt.existing {
					if tt.wantErr != nil {
						require.Equal(t, group.Dead, c.Describe("g").State)
					}
					require.Empty(t, c.Groups())
				}

				req.MemberID = resp.MemberID
				w := goJoin(t.Context(), c, req)
				synctest.Wait()
				switch {
				case tt.wantErr != nil:
					require.ErrorIs(t, ready(t, w).err, tt.wantErr)
					if tt.existing {
						require.Len(t, c.Describe("g").Members, 1)
					} else {
						require.Equal(t, group.Dead, c.Describe("g").State)
					}
				case tt.existing:
					blocked(t, w) // a rebalance, waiting for a
					require.Contains(t, memberIDs(c.Describe("g")), resp.MemberID)
				default:
					r := ready(t, w)
					require.NoError(t, r.err)
					require.Equal(t, resp.MemberID, r.resp.MemberID)
				}
				c.Close()
			})
		})
	}
}

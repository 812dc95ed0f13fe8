package group_test

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/group"
)

// A node that stops leading a group's offsets partition refuses the group
// and evicts it: waiting members learn to look for the new coordinator,
// and no timer of the evicted group fires.
func TestEvict_MovedGroupAnswersNotCoordinator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var owned atomic.Bool
		owned.Store(true)
		c := newCoordinator(t, group.Config{Owns: func(g string) error {
			if g == "moving" && !owned.Load() {
				return group.ErrNotCoordinator
			}
			return nil
		}})
		a := formGroup(t, c, joinReq("moving", "a"))[0]
		formGroup(t, c, joinReq("staying", "x"))
		waiting := goJoin(t.Context(), c, joinReq("moving", "b")) // a must rejoin before b gets an answer
		blocked(t, waiting)

		owned.Store(false)
		c.Evict(func(g string) bool { return g == "moving" })
		require.ErrorIs(t, ready(t, waiting).err, group.ErrNotCoordinator)
		require.ErrorIs(t, c.Heartbeat("moving", identity(a)), group.ErrNotCoordinator)
		require.ErrorIs(t, c.ValidateCommit("moving", group.Identity{Generation: -1}), group.ErrNotCoordinator)
		_, err := joinNow(t, c, joinReq("moving", "c"))
		require.ErrorIs(t, err, group.ErrNotCoordinator)
		require.Equal(t, []string{"staying"}, c.Groups())

		time.Sleep(time.Hour) // the evicted group's session and join timers stay silent
		synctest.Wait()

		owned.Store(true) // leadership came back: the group starts over, empty
		resp, err := joinNow(t, c, joinReq("moving", "d"))
		require.NoError(t, err)
		require.Equal(t, int32(1), resp.Generation)
	})
}

package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestByteBudget(t *testing.T) {
	b := newByteBudget(100)
	got, err := b.acquire(t.Context(), 60)
	require.NoError(t, err)
	assert.Equal(t, int64(60), got)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = b.acquire(ctx, 50)
	require.ErrorIs(t, err, context.Canceled, "no room: it waits until the context ends")

	taken := make(chan int64)
	go func() {
		n, _ := b.acquire(t.Context(), 1000) // more than all: waits to be alone, takes all
		taken <- n
	}()
	b.release(got)
	assert.Equal(t, int64(100), <-taken)
	b.release(100)
	got, err = b.acquire(t.Context(), 100)
	require.NoError(t, err)
	assert.Equal(t, int64(100), got)
}

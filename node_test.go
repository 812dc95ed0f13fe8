package creek

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
)

func TestCreateTopic(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "orders", TopicSpec{Partitions: 3, Configs: map[string]string{ConfigRetentionMs: "1000"}}))
	require.NoError(t, n.CreateTopic(ctx, "audit.log_v2-x", TopicSpec{}))

	info, err := n.DescribeTopic("orders")
	require.NoError(t, err)
	assert.Len(t, info.Partitions, 3)
	assert.Equal(t, "1000", info.Configs[ConfigRetentionMs])
	assert.Equal(t, "delete", info.Configs[ConfigCleanupPolicy], "defaults are described too")
	assert.NotEqual(t, [16]byte{}, info.ID)
	assert.Equal(t, []string{"audit.log_v2-x", "orders"}, topicNames(n.Topics()))

	tests := []struct {
		name  string
		topic string
		spec  TopicSpec
		want  error
	}{
		{"exists", "orders", TopicSpec{}, ErrTopicExists},
		{"empty name", "", TopicSpec{}, ErrInvalidTopic},
		{"dot", ".", TopicSpec{}, ErrInvalidTopic},
		{"slash", "a/b", TopicSpec{}, ErrInvalidTopic},
		{"too long", strings.Repeat("x", 250), TopicSpec{}, ErrInvalidTopic},
		{"internal", ConsumerOffsetsTopic, TopicSpec{}, ErrInvalidTopic},
		{"negative partitions", "p", TopicSpec{Partitions: -1}, ErrInvalidPartitions},
		{"replicas without a cluster", "r", TopicSpec{ReplicationFactor: 3}, ErrInvalidReplicationFactor},
		{"assignment without a cluster", "a", TopicSpec{Assignment: [][]int32{{0}}}, ErrInvalidReplicaAssignment},
		{"unknown config", "c", TopicSpec{Configs: map[string]string{"no.such": "1"}}, ErrInvalidConfig},
		{"bad value", "v", TopicSpec{Configs: map[string]string{ConfigCleanupPolicy: "sometimes"}}, ErrInvalidConfig},
		{"bad unclean election", "u", TopicSpec{Configs: map[string]string{ConfigUncleanLeaderElection: "maybe"}}, ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, n.CreateTopic(ctx, tc.topic, tc.spec), tc.want)
		})
	}
	assert.Len(t, n.Topics(), 2, "failed creations create nothing")
}

func TestTopicConfigReportsEveryProblem(t *testing.T) {
	_, err := parseTopicConfig(nil, map[string]string{
		ConfigRetentionMs: "soon", ConfigSegmentBytes: "1", ConfigMessageTimestampType: "Whenever", "bogus": "1",
	})
	require.ErrorIs(t, err, ErrInvalidConfig)
	for _, name := range []string{ConfigRetentionMs, ConfigSegmentBytes, ConfigMessageTimestampType, "bogus"} {
		assert.Contains(t, err.Error(), name)
	}
	c, err := parseTopicConfig(nil, map[string]string{ConfigRetentionMs: "-1", ConfigRetentionBytes: "-1", ConfigCleanupPolicy: "delete, compact"})
	require.NoError(t, err)
	assert.Zero(t, c.log.Retention, "-1 keeps forever")
	assert.Zero(t, c.log.RetentionBytes)
	assert.Equal(t, CleanupCompactDelete, c.log.Cleanup)
	assert.Contains(t, TopicConfigNames(), ConfigSync)
}

func topicNames(infos []TopicInfo) []string {
	var names []string
	for _, i := range infos {
		names = append(names, i.Name)
	}
	return names
}

func TestProduceFetch(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Partitions: 2}))
	var want [][]byte
	for i := range 5 {
		b := testBatch(t, i*3, 3, 50, 1)
		base, err := n.ProduceBatch(ctx, "t", 1, b)
		require.NoError(t, err)
		assert.Equal(t, int64(i*3), base)
		want = append(want, b)
	}
	got, err := n.FetchBatches(ctx, nil, "t", 1, 0, FetchOptions{})
	require.NoError(t, err)
	assert.Equal(t, bytesJoin(want), got)

	got, err = n.FetchBatches(ctx, nil, "t", 1, 4, FetchOptions{MaxBytes: len(want[1]) + len(want[2]) + 10})
	require.NoError(t, err)
	assert.Equal(t, bytesJoin(want[1:3]), got, "whole batches up to MaxBytes, from the one holding the offset")

	got, err = n.FetchBatches(ctx, nil, "t", 1, 0, FetchOptions{MaxBytes: 1})
	require.NoError(t, err)
	assert.Equal(t, want[0], got, "one batch even past MaxBytes")

	got, err = n.FetchBatches(ctx, nil, "t", 0, 0, FetchOptions{})
	require.NoError(t, err)
	assert.Empty(t, got, "partition 0 is empty")

	_, err = n.ProduceBatch(ctx, "t", 2, testBatch(t, 0, 1, 1, 1))
	require.ErrorIs(t, err, ErrUnknownTopic)
	_, err = n.ProduceBatch(ctx, "nope", 0, testBatch(t, 0, 1, 1, 1))
	require.ErrorIs(t, err, ErrUnknownTopic)
	_, err = n.FetchBatches(ctx, nil, "t", 1, 99, FetchOptions{})
	require.ErrorIs(t, err, ErrOffsetOutOfRange)
	bad := testBatch(t, 0, 1, 1, 1)
	bad[len(bad)-1] ^= 1
	_, err = n.ProduceBatch(ctx, "t", 1, bad)
	require.ErrorIs(t, err, ErrCorrupt)
}

func bytesJoin(bs [][]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestFetchWaitsForData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger()})
		ctx := t.Context()
		require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))

		// Nothing arrives: the fetch returns empty after MaxWait.
		start := time.Now()
		got, err := n.FetchBatches(ctx, nil, "t", 0, 0, FetchOptions{MaxWait: time.Second})
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.Equal(t, time.Second, time.Since(start), "the bubble's clock: no real waiting")

		// A batch arrives while the fetch waits: it wakes at once.
		done := make(chan []byte)
		go func() {
			got, err := n.FetchBatches(ctx, nil, "t", 0, 0, FetchOptions{MaxWait: time.Hour, MinBytes: 1})
			assert.NoError(t, err)
			done <- got
		}()
		synctest.Wait() // the fetch is blocked, waiting
		b := testBatch(t, 0, 1, 10, 1)
		_, err = n.ProduceBatch(ctx, "t", 0, b)
		require.NoError(t, err)
		assert.Equal(t, b, <-done)

		// MinBytes not yet reached: the fetch keeps waiting for more.
		go func() {
			got, err := n.FetchBatches(ctx, nil, "t", 0, 0, FetchOptions{MaxWait: time.Hour, MinBytes: 2 * len(b)})
			assert.NoError(t, err)
			done <- got
		}()
		synctest.Wait()
		b2 := testBatch(t, 1, 1, 10, 1)
		_, err = n.ProduceBatch(ctx, "t", 0, b2)
		require.NoError(t, err)
		assert.Equal(t, bytesJoin([][]byte{b, b2}), <-done)

		// A cancelled context ends the wait.
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			_, err := n.FetchBatches(cctx, nil, "t", 0, 2, FetchOptions{MaxWait: time.Hour})
			assert.ErrorIs(t, err, context.Canceled)
			done <- nil
		}()
		synctest.Wait()
		cancel()
		<-done
	})
}

func TestNodeOnDiskSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	n, err := Open(Config{Dir: dir, Logger: discardLogger()})
	require.NoError(t, err)
	require.NoError(t, n.CreateTopic(ctx, "kept", TopicSpec{Partitions: 2, Configs: map[string]string{ConfigSegmentBytes: "4096"}}))
	require.NoError(t, n.CreateTopic(ctx, "gone", TopicSpec{}))
	b := testBatch(t, 0, 2, 10, 1)
	_, err = n.ProduceBatch(ctx, "kept", 1, b)
	require.NoError(t, err)
	require.NoError(t, n.DeleteTopic(ctx, "gone"))
	require.ErrorIs(t, n.DeleteTopic(ctx, "gone"), ErrUnknownTopic)
	require.NoError(t, n.CreatePartitions(ctx, "kept", 3))
	require.ErrorIs(t, n.CreatePartitions(ctx, "kept", 2), ErrInvalidPartitions)
	require.NoError(t, n.Close())
	require.NoError(t, n.Close(), "a second Close returns nil")
	assert.NoDirExists(t, filepath.Join(dir, "gone-0"))

	n, err = Open(Config{Dir: dir, Logger: discardLogger()})
	require.NoError(t, err)
	defer n.Close()
	info, err := n.DescribeTopic("kept")
	require.NoError(t, err)
	assert.Len(t, info.Partitions, 3)
	assert.Equal(t, "4096", info.Configs[ConfigSegmentBytes])
	assert.Equal(t, int64(2), info.Partitions[1].HighWatermark)
	got, err := n.FetchBatches(ctx, nil, "kept", 1, 0, FetchOptions{})
	require.NoError(t, err)
	assert.Equal(t, b, got)
	assert.Equal(t, []string{"kept"}, topicNames(n.Topics()))
}

func TestDeletedTopicFilesRemovedOnOpen(t *testing.T) {
	fs := fsx.NewMem()
	n, err := openNode(fs, "/n", Config{Logger: discardLogger()}, time.Now)
	require.NoError(t, err)
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	require.NoError(t, n.Close())
	// As if the registry forgot the topic and the node died before its files went.
	require.NoError(t, writeRegistry(fs, "/n", registry{}))
	n, err = openNode(fs, "/n", Config{Logger: discardLogger()}, time.Now)
	require.NoError(t, err)
	defer n.Close()
	names, err := fs.ReadDir("/n")
	require.NoError(t, err)
	assert.Equal(t, []string{registryName}, names)
}

func TestAlterTopicConfig(t *testing.T) {
	clock := new(fakeClock).set(5_000)
	n, err := openNode(fsx.NewMem(), "/n", Config{Logger: discardLogger()}, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))

	require.NoError(t, n.AlterTopicConfig(ctx, "t", map[string]string{ConfigMessageTimestampType: "LogAppendTime"}, nil))
	_, err = n.ProduceBatch(ctx, "t", 0, testBatch(t, 0, 1, 10, 1))
	require.NoError(t, err)
	got, err := n.FetchBatches(ctx, nil, "t", 0, 0, FetchOptions{})
	require.NoError(t, err)
	h, err := batch.Validate(got)
	require.NoError(t, err)
	assert.Equal(t, batch.LogAppendTime, h.TimestampType())
	assert.Equal(t, int64(5_000), h.MaxTimestamp, "stamped with the node's time")

	require.ErrorIs(t, n.AlterTopicConfig(ctx, "t", map[string]string{ConfigRetentionMs: "x"}, nil), ErrInvalidConfig)
	info, _ := n.DescribeTopic("t")
	assert.Equal(t, "604800000", info.Configs[ConfigRetentionMs], "an invalid change changes nothing")
	require.NoError(t, n.AlterTopicConfig(ctx, "t", nil, []string{ConfigMessageTimestampType}))
	info, _ = n.DescribeTopic("t")
	assert.Equal(t, "CreateTime", info.Configs[ConfigMessageTimestampType], "removing a config restores its default")
	require.ErrorIs(t, n.AlterTopicConfig(ctx, "none", nil, nil), ErrUnknownTopic)
}

func TestCompressionTypeRecompresses(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "z", TopicSpec{Configs: map[string]string{ConfigCompressionType: "zstd"}}))
	in := testBatch(t, 0, 20, 100, 1)
	wantRecords, err := decodeRecords(in)
	require.NoError(t, err)
	_, err = n.ProduceBatch(ctx, "z", 0, in)
	require.NoError(t, err)
	got, err := n.FetchBatches(ctx, nil, "z", 0, 0, FetchOptions{})
	require.NoError(t, err)
	h, err := batch.Validate(got)
	require.NoError(t, err)
	assert.Equal(t, batch.Zstd, h.Compression())
	assert.Less(t, len(got), len(in))
	gotRecords, err := decodeRecords(got)
	require.NoError(t, err)
	assert.Equal(t, wantRecords, gotRecords)
}

func TestAutoCreateTopics(t *testing.T) {
	ctx := t.Context()
	off := newTestNode(t, Config{Logger: discardLogger()})
	_, err := off.ProduceBatch(ctx, "new", 0, testBatch(t, 0, 1, 1, 1))
	require.ErrorIs(t, err, ErrUnknownTopic, "off by default")

	on := newTestNode(t, Config{Logger: discardLogger(), AutoCreateTopics: true, AutoCreatePartitions: 4})
	_, err = on.ProduceBatch(ctx, "new", 3, testBatch(t, 0, 1, 1, 1))
	require.NoError(t, err)
	info, err := on.DescribeTopic("new")
	require.NoError(t, err)
	assert.Len(t, info.Partitions, 4)
}

func TestRegistryRejectsDamage(t *testing.T) {
	good, err := registry{Topics: []registryTopic{{Name: "a", Partitions: 2}}}.marshal()
	require.NoError(t, err)
	for i := range good {
		damaged := append([]byte(nil), good...)
		damaged[i] ^= 0x10
		_, err := unmarshalRegistry(damaged)
		require.Error(t, err, "byte %d", i)
	}
	fs := fsx.NewMem()
	require.NoError(t, fs.MkdirAll("/n", 0o755))
	require.NoError(t, framefile.WriteAtomic(fs, "/n", registryName, good[:len(good)-1]))
	_, err = openNode(fs, "/n", Config{Logger: discardLogger()}, time.Now)
	require.ErrorIs(t, err, ErrCorrupt, "a damaged registry stops the node rather than losing topics")
}

func FuzzRegistry(f *testing.F) {
	good, _ := registry{Topics: []registryTopic{{Name: "a", Partitions: 2, Configs: map[string]string{"x": "y"}}}}.marshal()
	f.Add(good)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := unmarshalRegistry(b)
		if err != nil {
			return
		}
		again, err := r.marshal()
		require.NoError(t, err)
		r2, err := unmarshalRegistry(again)
		require.NoError(t, err)
		assert.Equal(t, r, r2, "what decodes re-encodes to the same registry")
	})
}

// BenchmarkOpenCreateClose opens a memory node, creates a topic and closes
// it: what a test that uses creektest.Node pays. The goal: under 5 ms.
func BenchmarkOpenCreateClose(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		n, err := Open(Config{Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		if err := n.CreateTopic(ctx, "t", TopicSpec{Partitions: 8}); err != nil {
			b.Fatal(err)
		}
		if err := n.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOpenListsEveryConfigProblem: Open's error names each problem of
// the config, not only the first, as the other validators do.
func TestOpenListsEveryConfigProblem(t *testing.T) {
	_, err := Open(Config{AutoCreatePartitions: -1, TopicDefaults: map[string]string{"no.such.config": "1"},
		AdvertisedAddr: "nowhere"})
	require.ErrorIs(t, err, ErrInvalidConfig)
	for _, want := range []string{"AutoCreatePartitions -1", "no.such.config", "AdvertisedAddr"} {
		assert.Contains(t, err.Error(), want)
	}
}

package hostile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The disk-full case: a tmpfs of diskSize holding a filler file of
// fillerBytes next to the node's data, filled with diskBatch-byte
// produces.
const (
	diskSize     = "64m"
	fillerBytes  = 16 * MiB
	diskRecord   = 64 << 10 // one record's value
	diskBatch    = 4        // records in one fill batch: 256 KiB
	diskMaxFills = 1024     // 256 MiB: far past the disk
	diskRecover  = 30 * time.Second
	// Kafka's code for a partition whose storage failed.
	codeKafkaStorageError = 56
)

// TestDiskFullRecoversWithoutRestart: the node's data lives on a 64 MiB
// tmpfs. Produces fill it until they fail; then the test deletes a 16 MiB
// file it wrote there first, and within 30 s produces to the same
// partition must succeed again without a restart, and every record
// acknowledged before must still be there.
//
// It mounts the tmpfs in a private mount namespace: it re-runs itself
// under `unshare --mount` (as root) or `unshare --user --map-root-user
// --mount`. Where neither works it is skipped, saying why: the in-process
// TestPartitionHealsOnceTheDiskHasRoom still pins the mechanism.
func TestDiskFullRecoversWithoutRestart(t *testing.T) {
	if !InMountNamespace() {
		if why := CanUnshareMount(); why != "" {
			t.Skipf("the disk-full case needs a private mount namespace where it may mount a tmpfs: %s", why)
		}
		cmd, err := UnshareMountCommand("-test.run", "^TestDiskFullRecoversWithoutRestart$", "-test.count", "1", "-test.v", "-test.timeout", "5m")
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, CreekBinEnv+"="+creekBin)
		cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
		if err := cmd.Run(); err != nil {
			t.Fatalf("TestDiskFullRecoversWithoutRestart in a private mount namespace failed (%v); its output is above", err)
		}
		return
	}

	mnt := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := MountTmpfs(mnt, diskSize); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Unmount(mnt); err != nil {
			t.Error(err)
		}
	})
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, bytes.Repeat([]byte{0xf1}, fillerBytes), 0o644); err != nil {
		t.Fatalf("write the filler file: %v", err)
	}
	c := startCase(t, caseOptions{Data: filepath.Join(mnt, "data")})
	conn := c.dial()

	acked := map[int64][]byte{}
	for o, v := range c.earlier {
		acked[o] = v
	}
	var failed ProduceResult
	fills := 0
	for ; fills < diskMaxFills; fills++ {
		values := fillValues(fills)
		res, err := Produce(conn, topic, 0, -1, ValuesBatch(values...).Bytes(), RequestTimeout)
		if err != nil {
			t.Fatalf("fill produce %d on a filling disk: %v", fills, err)
		}
		if res.ErrorCode != 0 {
			failed = res
			break
		}
		for i, v := range values {
			acked[res.BaseOffset+int64(i)] = v
		}
	}
	if fills == diskMaxFills {
		t.Fatalf("%d produces of %d KiB never filled a %s tmpfs", diskMaxFills, diskBatch*diskRecord>>10, diskSize)
	}
	t.Logf("the disk filled after %d fill produces (%d records acknowledged in all): error code %d %q (KAFKA_STORAGE_ERROR is %d)",
		fills, len(acked), failed.ErrorCode, failed.ErrorMessage, codeKafkaStorageError)
	if err := c.node.Alive(); err != nil {
		t.Fatalf("on a full disk: %v", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatalf("remove the filler file: %v", err)
	}
	freed := time.Now()
	attempt := 0
	err := waitFor(t.Context(), diskRecover, func(ctx context.Context) (bool, error) {
		attempt++
		v := fmt.Appendf(nil, "recover-%d", attempt)
		again, err := DialRaw(ctx, c.node.Addr())
		if err != nil {
			return false, err
		}
		defer again.Close()
		res, err := Produce(again, topic, 0, -1, ValuesBatch(v).Bytes(), 10*time.Second)
		if err != nil {
			return false, err
		}
		if res.ErrorCode != 0 {
			return false, fmt.Errorf("error code %d %q", res.ErrorCode, res.ErrorMessage)
		}
		acked[res.BaseOffset] = v
		return true, nil
	})
	if err != nil {
		t.Errorf("with the filler deleted (%d MiB free), produces to %s-0 still fail without a restart, %d tries: %v",
			fillerBytes/MiB, topic, attempt, err)
	} else {
		t.Logf("produces to %s-0 succeed again %v after the filler was deleted (%d tries)", topic, time.Since(freed).Round(time.Millisecond), attempt)
	}
	if err := c.node.Alive(); err != nil {
		t.Fatalf("after space was freed: %v", err)
	}

	var highest int64
	for o := range acked {
		highest = max(highest, o)
	}
	got, err := ReadRange(conn, topic, 0, 0, highest+1, RequestTimeout)
	lost := 0
	for o, v := range acked {
		if !bytes.Equal(got[o], v) {
			lost++
		}
	}
	if lost > 0 || err != nil {
		t.Errorf("%d of %d acknowledged records do not read back (read stopped: %v)", lost, len(acked), err)
	} else {
		t.Logf("all %d acknowledged records read back", len(acked))
	}
	c.afterChecks(peakRSSBound)
}

// fillValues is the values of fill produce i.
func fillValues(i int) [][]byte {
	values := make([][]byte, diskBatch)
	for j := range values {
		v := bytes.Repeat([]byte{byte(i)}, diskRecord)
		copy(v, fmt.Sprintf("fill-%d-%d-", i, j))
		values[j] = v
	}
	return values
}

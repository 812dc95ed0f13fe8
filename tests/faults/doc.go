// Command faults is creek's black-box fault harness: it builds `creek
// serve`, starts a cluster of real processes on loopback (node i on host
// 127.0.0.(10+i)), creates the topic "faults" (replication factor 3,
// min.insync.replicas=2), and, while a franz-go producer (acks=all,
// idempotent) writes and a consumer reads, runs a seeded nemesis that kills
// nodes with SIGKILL, restarts them all gracefully one by one, pauses one
// with SIGSTOP and cuts one off from its peers. It then heals the cluster,
// waits for it to settle, reads every partition through Kafka and every
// node's segment files from disk, and checks for acknowledged records lost,
// moved or duplicated, replicas that diverged, values a consumer saw change,
// partition files a restarted node re-created, and log floods. It prints
// one line,
//
//	faults: seed=S nodes=N rounds=R acked=A lost=L moved=M duplicated=D diverged=V consumer_changed=C recreated=F log_flood_max=X stray_dirs=Y settled=true|false
//
// and exits non-zero when any anomaly was found; `-seed S` replays a run.
//
// # The transactional workload
//
// With -workload txn (the default is -workload records, the above), the
// harness creates "txn-in" and "txn-out" (both RF 3, min.insync.replicas
// 2), fills txn-in with "in-<n>" from an idempotent acks=all producer,
// and runs two pipeline workers, each a franz-go GroupTransactSession
// (group creek-faults-txn, read_committed, RequireStableFetchOffsets, its
// own transactional ID) that per poll begins a transaction, writes
// "out-<n> <txn> <count>" to txn-out for each input (<txn> names the
// worker and its transaction, <count> its records) and tries to commit;
// an End that fails starts a new session. A read_committed reader reads
// txn-out throughout. The nemesis, as above, prefers the workers'
// transaction coordinators (FindCoordinator, key type 1) and the leaders
// of both topics. After healing, the pipeline catches up and stops, every
// transaction ends (last stable offset at the high watermark), and the
// harness reads txn-in, and txn-out with read_committed and with
// read_uncommitted, and checks: each input's output is committed (missing:
// an input below the group's committed offset without one; those past it
// are counted unprocessed) and only once (duplicated); no output comes
// from no input (unexpected); every committed transaction is whole
// (torn), visible if End said it committed and not if End said it
// aborted (commit_lost, abort_visible); the live reader saw nothing the
// final read lacks where it saw it (live_unknown); and the filler's
// acknowledged inputs are in txn-in once (input_lost,
// input_duplicated). It prints
//
//	faults: workload=txn seed=S nodes=N rounds=R inputs=I outputs=O txns=T missing=M duplicated=D torn=T unexpected=X live_unknown=U live_seen=L commit_lost=C abort_visible=V input_lost=IL input_duplicated=ID aborted_seen=A unprocessed=P slow_txns=W log_flood_max=X settled=true|false
//
// where aborted_seen (records only read_uncommitted returns), unprocessed
// and slow_txns (transactions of 4 s or more) are figures, not anomalies. Each
// worker's franz-go log is worker-k.log in the run directory. The replica
// file checks of the records workload are not made.
//
// # Security
//
// With -security mtls (the default is -security none, plaintext), the
// harness makes in the run directory a CA (ca.pem), a certificate and
// PKCS#8 key per node (node-i-cert.pem, node-i-key.pem: CN=node-i, for
// the node's host, 127.0.0.1 and localhost, to serve and to connect
// with), a gossip key (gossip.key) and a users file (sasl-users, the
// one user faults:faults-pw), and starts each node with two listeners:
// INTERNAL (SSL), on which the nodes reach each other with their
// certificates as they do for Raft, gossiping with the key, and CLIENTS
// (SASL_SSL), the node's Kafka address, on which every client of the
// harness connects over TLS trusting the CA and authenticates with
// SCRAM-SHA-512 as faults. The controller's leader seeds the user into
// the cluster's metadata shortly after the cluster forms, so before
// creating topics the harness waits until every node takes it. The
// faults, the checks and the printed line are those of -security none.
//
// # Network cuts
//
// The cut fault adds `ip rule ... blackhole` rules between two nodes'
// host addresses, so the harness runs in a private network namespace: run
// as root, it re-executes itself as `unshare --net -- <self> <args>` with
// FAULTS_NETNS=1, brings lo up there and moves the local table's rule from
// preference 0 to 1000 so that the cut rules (preference 100) come first.
// Without root or unshare the other faults still run, and a run whose
// nemesis picks cut fails with an error saying why.
//
// # Running it by hand
//
//	cd tests/faults && go run . -seeds 10 -rounds 20
//	cd tests/faults && go run . -seed 1234 -nodes 5 -rounds 4 -rate 1000   # replay one seed
//	cd tests/faults && go run . -faults kill9,pause -keep                # some faults; keep the data
//	cd tests/faults && go run . -seeds 3 -duration 10m                    # rounds for 10 minutes a seed
//	cd tests/faults && go run . -creek /tmp/creek-old -seed 100 -rounds 8  # another build of creek
//	cd tests/faults && go run . -workload txn -seeds 3 -rounds 6 -rate 500  # exactly-once, transactions
//	cd tests/faults && go run . -security mtls -seeds 3 -rounds 6          # nodes over mTLS, clients SASL_SSL
//
// (Build an older commit's creek without touching the work tree with
// `git archive <commit> | tar -x -C /tmp/old && (cd /tmp/old && go build -o
// /tmp/creek-old ./cmd/creek)`.)
//
// The run directory (node data, and each node's stderr in node-i.log) is
// removed when a run passes, unless -keep, and printed when it fails.
//
// # The test
//
//	cd tests/faults && go test -v -timeout 15m .
//	cd tests/faults && FAULTS_SEED=1234 go test -v -run TestFaults .
//
// TestFaults runs the same code as the command, bounded for CI: three seeds of
// 3 nodes × 4 rounds and one seed of 5 nodes × 3 rounds, then two seeds of
// the transactional workload (3 nodes × 3 rounds, 4 partitions, 300
// records/s). Run as root it
// re-runs its own test binary under `unshare --net` with `-test.run
// ^TestFaults$` and FAULTS_NETNS=1, so cuts are part of it; otherwise it
// runs without the cut fault and says so. The checker's unit tests
// (checker_test.go and the others) need neither processes nor root.
package main

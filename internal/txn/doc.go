// Package txn is the state machine of creek's transaction coordinator:
// Kafka's transactions (KIP-98) for one coordinator's transactional IDs,
// with KIP-360's recovery of a producer whose epoch ran out or whose last
// call's outcome it never learnt.
//
// A transactional ID moves Empty → Ongoing (AddPartitions, AddOffsets) →
// PrepareCommit or PrepareAbort (EndTxn, a timeout, or InitProducerID
// fencing an older instance) → CompleteCommit or CompleteAbort (once the
// caller has written the control markers to every partition) → Ongoing
// again with the next transaction. InitProducerID bumps the epoch, which
// fences every older instance of the producer; at transaction version 2
// (KIP-890's second part) so does every EndTxn.
//
// Nothing here does I/O, takes a lock or reads a clock: each step takes
// the time and returns the Transition it wants written to the
// __transaction_state partition (record.go has Kafka's format for it). The
// caller writes it, then calls Complete, or Abandon if the write failed;
// until then the ID answers CONCURRENT_TRANSACTIONS, as Kafka's pending
// state does. Errors are franz-go's kerr values, which carry Kafka's codes.
package txn

// Package txnlog is a partition's view of the transactions in its log
// (issue 16): which producers have a transaction open and at which offset
// it began, the last stable offset below which every transaction is
// decided, the aborted transactions a read_committed reader skips (the
// entries of Kafka's .txnindex), and the control batches (markers) that
// end a transaction.
//
// A Tracker is fed every batch the log appends, in offset order, and is
// rebuilt on recovery by feeding it the log again. It does no I/O and
// takes no lock.
package txnlog

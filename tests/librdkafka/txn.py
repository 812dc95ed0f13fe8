"""Drives a creek node's transactions with librdkafka (confluent_kafka).

A transactional producer commits ten orders, then sends ten more and
aborts; a consumer of group "billing" reads the orders and, in a third
transaction, writes a receipt for each and commits the group's offsets
with them (send_offsets_to_transaction). A read_committed consumer then
reads exactly the committed orders and receipts, a read_uncommitted one
the aborted orders too, and the group's committed offsets are the ones
sent in the transaction. BROKER names the node's address. Exits non-zero
on the first failed check; run by librdkafka_test.go.
"""
import os
import sys
import time

import confluent_kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BROKER = os.environ["BROKER"]
ORDERS, RECEIPTS = "orders", "receipts"
PARTITIONS = 2
END = b"end"  # a plain record after the transactions on every partition
TIMEOUT = 60  # seconds for any one wait


def check(want, got, what):
    if want != got:
        sys.exit(f"{what}: want {want!r}, got {got!r}")


def delivered(err, msg):
    if err is not None:
        sys.exit(f"delivery to {msg.topic()}/{msg.partition()}: {err}")


def produce(producer, topic, prefix, n):
    for i in range(n):
        producer.produce(topic, f"{prefix}-{i}".encode(), partition=i % PARTITIONS, on_delivery=delivered)


def consumer(group, isolation):
    return Consumer({
        "bootstrap.servers": BROKER,
        "group.id": group,
        "isolation.level": isolation,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
    })


def poll(c, what, done):
    """Polls c until done() holds, yielding each record."""
    deadline = time.monotonic() + TIMEOUT
    while not done():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        msg = c.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            raise KafkaException(msg.error())
        yield msg


def read(group, topics, isolation):
    """Reads topics from the beginning up to the end record of every
    partition; returns each topic's values in partition, then offset order."""
    got, ends = {}, set()
    c = consumer(group, isolation)
    c.subscribe(topics)
    for msg in poll(c, f"{group} to reach every end record", lambda: len(ends) == len(topics) * PARTITIONS):
        if msg.value() == END:
            ends.add((msg.topic(), msg.partition()))
        else:
            got.setdefault((msg.topic(), msg.partition()), []).append(msg.value().decode())
    c.close()
    return {t: [v for p in range(PARTITIONS) for v in got.get((t, p), [])] for t in topics}


def main():
    print("confluent_kafka", confluent_kafka.version()[0], "librdkafka", confluent_kafka.libversion()[0])
    admin = AdminClient({"bootstrap.servers": BROKER})
    for f in admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in (ORDERS, RECEIPTS)]).values():
        f.result(TIMEOUT)

    producer = Producer({"bootstrap.servers": BROKER, "transactional.id": "creek-librdkafka-txn"})
    producer.init_transactions(TIMEOUT)

    producer.begin_transaction()
    produce(producer, ORDERS, "order", 10)
    producer.commit_transaction(TIMEOUT)

    producer.begin_transaction()
    produce(producer, ORDERS, "aborted", 10)
    # abort_transaction purges what is still queued: flush first, so the
    # aborted records are in the log for read_committed to skip.
    check(0, producer.flush(TIMEOUT), "records left unsent before the abort")
    producer.abort_transaction(TIMEOUT)

    # Consume-transform-produce: billing reads the committed orders without
    # committing itself; the receipts and its offsets commit as one.
    billing = consumer("billing", "read_committed")
    billing.subscribe([ORDERS])
    billed, after = [], {}
    for msg in poll(billing, "billing to read the ten committed orders", lambda: len(billed) == 10):
        billed.append(msg.value().decode())
        after[msg.partition()] = msg.offset() + 1
    check([], [v for v in billed if v.startswith("aborted")], "aborted orders billing (read_committed) read")
    producer.begin_transaction()
    for i, order in enumerate(billed):
        producer.produce(RECEIPTS, f"receipt-{order}".encode(), partition=i % PARTITIONS, on_delivery=delivered)
    sent = [TopicPartition(ORDERS, p, o) for p, o in sorted(after.items())]
    producer.send_offsets_to_transaction(sent, billing.consumer_group_metadata(), TIMEOUT)
    producer.commit_transaction(TIMEOUT)
    billing.close()

    plain = Producer({"bootstrap.servers": BROKER})
    for t in (ORDERS, RECEIPTS):
        for p in range(PARTITIONS):
            plain.produce(t, END, partition=p, on_delivery=delivered)
    check(0, plain.flush(TIMEOUT), "end records left unsent")

    orders = [f"order-{i}" for p in range(PARTITIONS) for i in range(p, 10, PARTITIONS)]
    aborted = [f"aborted-{i}" for i in range(10)]
    committed = read("audit-committed", [ORDERS, RECEIPTS], "read_committed")
    check(orders, committed[ORDERS], "read_committed orders")
    check(sorted("receipt-" + o for o in orders), sorted(committed[RECEIPTS]), "read_committed receipts")
    uncommitted = read("audit-uncommitted", [ORDERS], "read_uncommitted")
    check([v for p in range(PARTITIONS) for v in orders[p * 5:p * 5 + 5] + aborted[p::PARTITIONS]],
          uncommitted[ORDERS], "read_uncommitted orders")

    check([(ORDERS, 0, 5), (ORDERS, 1, 5)], [(tp.topic, tp.partition, tp.offset) for tp in sent], "offsets sent")
    c = consumer("billing", "read_committed")
    got = c.committed([TopicPartition(ORDERS, p) for p in range(PARTITIONS)], TIMEOUT)
    c.close()
    check([(ORDERS, 0, 5), (ORDERS, 1, 5)], [(tp.topic, tp.partition, tp.offset) for tp in got],
          "billing's committed offsets")
    print("librdkafka transactions: all checks passed")


if __name__ == "__main__":
    main()

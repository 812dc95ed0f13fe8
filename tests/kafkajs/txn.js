// Drives a creek node's transactions with kafkajs: a transactional producer
// commits ten orders, then sends ten more and aborts; a consumer of group
// "billing" reads the orders and, in a third transaction, writes a receipt
// for each and commits the group's offsets with them (sendOffsets). A
// read_committed consumer then reads exactly the committed orders and
// receipts, a read_uncommitted one the aborted orders too, and the group's
// committed offsets are the ones sent in the transaction.
// BROKER names the node's address. Exits non-zero on the first failed check.
'use strict'
const { Kafka, logLevel } = require('kafkajs')
const assert = require('node:assert/strict')

const kafka = new Kafka({ clientId: 'creek-kafkajs-txn', brokers: [process.env.BROKER], logLevel: logLevel.ERROR })
const orders = 'orders'
const receipts = 'receipts'
const partitions = 2
const end = 'end' // a plain record after the transactions on every partition

function waitFor(what, done, ms = 60000) {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const tick = setInterval(() => {
      if (done()) { clearInterval(tick); resolve() } else if (Date.now() - started > ms) {
        clearInterval(tick); reject(new Error('timed out waiting for ' + what))
      }
    }, 20)
  })
}

function messages(prefix, n) {
  const out = []
  for (let i = 0; i < n; i++) out.push({ partition: i % partitions, value: prefix + '-' + i })
  return out
}

// read consumes topics from the beginning until the end record of every
// partition, and returns each topic's values in partition order, then offset.
async function read(groupId, topics, readUncommitted) {
  const got = new Map() // topic/partition -> values
  const ends = new Set()
  const consumer = kafka.consumer({ groupId, readUncommitted, heartbeatInterval: 200 })
  await consumer.connect()
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      const value = message.value.toString()
      if (value === end) { ends.add(topic + '/' + partition); return }
      const key = topic + '/' + partition
      got.set(key, [...(got.get(key) || []), value])
    },
  })
  await waitFor(groupId + ' to reach every end record', () => ends.size === topics.length * partitions)
  await consumer.disconnect()
  const out = {}
  for (const topic of topics) {
    out[topic] = []
    for (let p = 0; p < partitions; p++) out[topic].push(...(got.get(topic + '/' + p) || []))
  }
  return out
}

async function main() {
  const admin = kafka.admin()
  await admin.connect()
  assert.equal(await admin.createTopics({
    topics: [{ topic: orders, numPartitions: partitions }, { topic: receipts, numPartitions: partitions }],
  }), true)

  const producer = kafka.producer({ transactionalId: 'creek-kafkajs-txn', idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()

  const committed = await producer.transaction()
  await committed.send({ topic: orders, messages: messages('order', 10) })
  await committed.commit()

  const aborted = await producer.transaction()
  await aborted.send({ topic: orders, messages: messages('aborted', 10) })
  await aborted.abort()

  // Consume-transform-produce: billing reads the committed orders without
  // committing itself; the receipts and its offsets commit as one.
  const billed = []
  const next = new Map() // partition -> offset after the last order read
  const billing = kafka.consumer({ groupId: 'billing', heartbeatInterval: 200 })
  await billing.connect()
  await billing.subscribe({ topic: orders, fromBeginning: true })
  await billing.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      billed.push(message.value.toString())
      next.set(partition, Number(message.offset) + 1)
    },
  })
  await waitFor('billing to read the ten committed orders', () => billed.length === 10)
  const etl = await producer.transaction()
  await etl.send({ topic: receipts, messages: billed.map((order, i) => ({ partition: i % partitions, value: 'receipt-' + order })) })
  const sent = [...next].map(([partition, offset]) => ({ partition, offset: String(offset) }))
  await etl.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: orders, partitions: sent }] })
  await etl.commit()
  await billing.disconnect()
  assert.deepEqual(billed.filter(v => v.startsWith('aborted')), [], 'billing (read_committed) read aborted orders')
  await producer.disconnect()

  const plain = kafka.producer()
  await plain.connect()
  for (const topic of [orders, receipts]) {
    await plain.send({ topic, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: end })) })
  }
  await plain.disconnect()

  const wantOrders = ['order-0', 'order-2', 'order-4', 'order-6', 'order-8', 'order-1', 'order-3', 'order-5', 'order-7', 'order-9']
  const readCommitted = await read('audit-committed', [orders, receipts], false)
  assert.deepEqual(readCommitted[orders], wantOrders, 'read_committed orders')
  assert.deepEqual([...readCommitted[receipts]].sort(), wantOrders.map(o => 'receipt-' + o).sort(), 'read_committed receipts')
  const readUncommitted = await read('audit-uncommitted', [orders], true)
  assert.deepEqual(readUncommitted[orders], [
    'order-0', 'order-2', 'order-4', 'order-6', 'order-8', 'aborted-0', 'aborted-2', 'aborted-4', 'aborted-6', 'aborted-8',
    'order-1', 'order-3', 'order-5', 'order-7', 'order-9', 'aborted-1', 'aborted-3', 'aborted-5', 'aborted-7', 'aborted-9',
  ], 'read_uncommitted orders')

  const offsets = await admin.fetchOffsets({ groupId: 'billing', topics: [orders] })
  const got = offsets[0].partitions.map(p => ({ partition: p.partition, offset: p.offset })).sort((a, b) => a.partition - b.partition)
  assert.deepEqual(got, [{ partition: 0, offset: '5' }, { partition: 1, offset: '5' }], 'billing\'s offsets are the ones sent in the transaction')
  await admin.disconnect()
  console.log('kafkajs transactions: all checks passed')
}

main().catch(err => { console.error(err); process.exit(1) })

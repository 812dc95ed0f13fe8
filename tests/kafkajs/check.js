// Drives a creek node with kafkajs: admin creates a topic; an idempotent
// producer sends 3,000 keyed records; a group of two consumers gets each
// record exactly once, in order within its key; after they commit and
// leave, a new member of the group resumes after the commit.
// BROKER names the node's address. Exits non-zero on the first failed check.
'use strict'
const { Kafka, logLevel } = require('kafkajs')
const assert = require('node:assert/strict')

const kafka = new Kafka({ clientId: 'creek-kafkajs', brokers: [process.env.BROKER], logLevel: logLevel.ERROR })
const topic = 'logins'
const groupId = 'login-server'

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

async function produce(producer, from, to) {
  const messages = []
  for (let i = from; i < to; i++) messages.push({ key: 'user-' + (i % 50), value: String(i) })
  for (let i = 0; i < messages.length; i += 500) {
    await producer.send({ topic, messages: messages.slice(i, i + 500) })
  }
}

// startMember joins the group and records what it reads.
async function startMember(seen, lastByKey, assigned) {
  const consumer = kafka.consumer({ groupId, heartbeatInterval: 200 })
  consumer.on(consumer.events.GROUP_JOIN, e => { assigned.set(consumer, e.payload.memberAssignment[topic] || []) })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = message.key.toString()
      const value = Number(message.value.toString())
      seen.set(value, (seen.get(value) || 0) + 1)
      if (lastByKey.has(key)) assert.ok(value > lastByKey.get(key), `key ${key}: ${value} after ${lastByKey.get(key)}`)
      lastByKey.set(key, value)
    },
  })
  return consumer
}

async function main() {
  const admin = kafka.admin()
  await admin.connect()
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] }), true)
  const meta = await admin.fetchTopicMetadata({ topics: [topic] })
  assert.equal(meta.topics[0].partitions.length, 4)

  const seen = new Map()
  const lastByKey = new Map()
  const assigned = new Map()
  const members = [await startMember(seen, lastByKey, assigned), await startMember(seen, lastByKey, assigned)]
  await waitFor('both members to share the four partitions', () =>
    assigned.size === 2 && [...assigned.values()].every(p => p.length === 2))

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  await produce(producer, 0, 3000)
  await waitFor('3,000 records', () => seen.size === 3000)
  for (const [value, times] of seen) assert.equal(times, 1, `record ${value} read ${times} times`)
  for (const m of members) await m.disconnect() // commits, leaves

  await produce(producer, 3000, 3100)
  const resumed = new Map()
  const restarted = await startMember(resumed, new Map(), new Map())
  await waitFor('the 100 new records', () => resumed.size === 100)
  for (const value of resumed.keys()) assert.ok(value >= 3000, `record ${value} was read before the commit`)
  await restarted.disconnect()

  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
  const committed = offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0)
  assert.equal(committed, 3100, 'the group committed every record')
  await producer.disconnect()
  await admin.disconnect()
  console.log('kafkajs: all checks passed')
}

main().catch(err => { console.error(err); process.exit(1) })

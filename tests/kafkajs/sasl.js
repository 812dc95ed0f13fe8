// Drives a creek node over SASL_SSL with kafkajs: TLS trusting the CA in
// CA_FILE, SCRAM-SHA-512 as USER with PASSWORD. A producer sends ten
// records, a consumer reads them back; a client with a wrong password is
// refused. BROKER names the node's address. Exits non-zero on the first
// failed check.
'use strict'
const fs = require('node:fs')
const { Kafka, logLevel } = require('kafkajs')
const assert = require('node:assert/strict')
const { roundTrip } = require('./roundtrip')

const ssl = { ca: [fs.readFileSync(process.env.CA_FILE, 'utf8')] }
const client = password => new Kafka({
  clientId: 'creek-kafkajs-sasl', brokers: [process.env.BROKER], logLevel: logLevel.NOTHING,
  ssl, sasl: { mechanism: 'scram-sha-512', username: process.env.USER_NAME, password },
  retry: { retries: 0 },
})
const topic = 'secure'

async function main() {
  const kafka = client(process.env.PASSWORD)
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
  await admin.disconnect()

  await roundTrip(kafka, topic, 'secure-readers')

  const refused = client('wrong').admin()
  await assert.rejects(refused.connect(), err => /SASL|authentication/i.test(String(err)))
  console.log('kafkajs SASL_SSL: all checks passed')
}

main().catch(err => { console.error(err); process.exit(1) })

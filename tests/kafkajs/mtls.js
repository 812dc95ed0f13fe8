// Drives a creek node over mutual TLS with kafkajs: TLS trusting the CA in
// CA_FILE, each client presenting a certificate of its own, whose subject
// is its principal. Alice (ALICE_CERT, ALICE_KEY) is refused a topic
// until the administrator (ADMIN_CERT, ADMIN_KEY), a super user, allows
// her over Kafka; then she produces and consumes. BROKER names the node's
// address. Exits non-zero on the first failed check.
'use strict'
const fs = require('node:fs')
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = require('kafkajs')
const assert = require('node:assert/strict')
const { roundTrip } = require('./roundtrip')

const read = name => fs.readFileSync(process.env[name], 'utf8')
const client = who => new Kafka({
  clientId: `creek-kafkajs-mtls-${who}`, brokers: [process.env.BROKER], logLevel: logLevel.NOTHING,
  ssl: { ca: [read('CA_FILE')], cert: read(`${who.toUpperCase()}_CERT`), key: read(`${who.toUpperCase()}_KEY`) },
  retry: { retries: 0 },
})
const topic = 'orders'
const groupId = 'alice-readers'

async function main() {
  const admin = client('admin').admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })

  const alice = client('alice')
  const refused = alice.producer()
  await refused.connect()
  await assert.rejects(refused.send({ topic, messages: [{ value: 'x' }] }),
    err => /authoriz/i.test(String(err)), 'alice may not write before an ACL allows her')
  await refused.disconnect()

  const allow = (resourceType, resourceName, operation) => ({
    resourceType, resourceName, resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:CN=alice', host: '*', operation, permissionType: AclPermissionTypes.ALLOW,
  })
  await admin.createAcls({ acl: [
    allow(AclResourceTypes.TOPIC, topic, AclOperationTypes.WRITE),
    allow(AclResourceTypes.TOPIC, topic, AclOperationTypes.READ),
    allow(AclResourceTypes.GROUP, groupId, AclOperationTypes.READ),
  ] })
  await admin.disconnect()

  await roundTrip(alice, topic, groupId)
  console.log('kafkajs mTLS and ACLs: all checks passed')
}

main().catch(err => { console.error(err); process.exit(1) })

// The round trip the security scripts share: a producer sends ten
// records to a topic, a consumer of a group reads them back from its
// start, and the values are checked. Throws on the first failed check.
'use strict'
const assert = require('node:assert/strict')

async function roundTrip(kafka, topic, groupId) {
  const producer = kafka.producer()
  await producer.connect()
  const messages = []
  for (let i = 0; i < 10; i++) messages.push({ value: String(i) })
  await producer.send({ topic, messages })
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const seen = []
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out reading')), 60000)
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value.toString())
        if (seen.length === messages.length) { clearTimeout(timer); resolve() }
      },
    }).catch(reject)
  })
  await consumer.disconnect()
  assert.deepEqual(seen, messages.map(m => m.value))
}

module.exports = { roundTrip }

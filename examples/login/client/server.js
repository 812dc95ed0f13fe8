// The login application's client: it serves the login page, and turns each
// sign-in into a request on login.requests, then waits for the reply with
// the same correlation id on login.replies (request/reply over topics).
//
//   BROKER=127.0.0.1:9092 PORT=8080 node server.js
'use strict'
const http = require('node:http')
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { Kafka, logLevel } = require('kafkajs')

const broker = process.env.BROKER || '127.0.0.1:9092'
const port = Number(process.env.PORT || 8080)
const replyTimeoutMs = Number(process.env.REPLY_TIMEOUT_MS || 5000)
const kafka = new Kafka({ clientId: 'login-client', brokers: [broker], logLevel: logLevel.ERROR })
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
// Every client instance reads every reply, so each has a group of its own,
// starting at the end: only replies to its own requests matter. The group
// is deleted when the client stops, so none is left behind.
const replyGroup = 'login-client-' + crypto.randomUUID()
const replies = kafka.consumer({ groupId: replyGroup })
const pending = new Map() // correlation id → resolve

async function login(email, password) {
  const correlationId = crypto.randomUUID()
  const reply = new Promise(resolve => {
    const timer = setTimeout(() => {
      pending.delete(correlationId)
      resolve({ ok: false, timeout: true, message: 'The login server did not answer in time. Please try again in a moment.' })
    }, replyTimeoutMs)
    pending.set(correlationId, r => { clearTimeout(timer); resolve(r) })
  })
  await producer.send({
    topic: 'login.requests',
    messages: [{ key: correlationId, value: JSON.stringify({ correlationId, email, password }) }],
  })
  return reply
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = ''
    req.on('data', chunk => {
      body += chunk
      if (body.length > 10000) reject(new Error('request too large'))
    })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

const page = fs.readFileSync(path.join(__dirname, 'public', 'index.html'))

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'GET' && (req.url === '/' || req.url === '/index.html')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      return res.end(page)
    }
    if (req.method === 'POST' && req.url === '/login') {
      const { email, password } = JSON.parse(await readBody(req))
      const result = await login(String(email || ''), String(password || ''))
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(JSON.stringify(result))
    }
    res.writeHead(404)
    res.end()
  } catch (err) {
    res.writeHead(502, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ ok: false, message: 'The login service is unavailable: ' + err.message }))
  }
})

async function main() {
  await producer.connect()
  await replies.connect()
  await replies.subscribe({ topic: 'login.replies', fromBeginning: false })
  let ready
  const joined = new Promise(resolve => { ready = resolve })
  replies.on(replies.events.GROUP_JOIN, () => ready())
  await replies.run({
    eachMessage: async ({ message }) => {
      const reply = JSON.parse(message.value.toString())
      const resolve = pending.get(reply.correlationId)
      if (resolve) {
        pending.delete(reply.correlationId)
        resolve({ ok: reply.ok, message: reply.message })
      }
    },
  })
  await joined
  server.listen(port, '127.0.0.1', () => console.log(`login page at http://127.0.0.1:${server.address().port}/`))
}

async function stop() {
  server.close()
  await Promise.allSettled([replies.disconnect(), producer.disconnect()])
  const admin = kafka.admin()
  await admin.connect().then(() => admin.deleteGroups([replyGroup])).catch(() => {})
  await admin.disconnect().catch(() => {})
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
main().catch(err => { console.error(err); process.exit(1) })

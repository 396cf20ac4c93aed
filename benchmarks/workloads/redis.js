/**
 * Redis Streams through ioredis, with pipelining: XADD in pipelines of 1000 against a private
 * redis-server with `appendonly yes` and `appendfsync everysec` (the acks-1 row) or `always` (the
 * acks-all row); XRANGE in pages of 1000 and XREADGROUP COUNT 1000 from the start, touching
 * every value.
 */
import Redis from 'ioredis'
import { makeValues, removeDir, scratchDir, touch } from '../lib/data.js'
import { redisServerVersion, startRedis } from '../lib/redis-server.js'
import { secondsSince } from '../lib/stats.js'

const FIELD = 'v'

async function connect(server) {
  const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false })
  await client.connect()
  return client
}

async function xaddAll(client, key, values, count, batch) {
  for (let from = 0; from < count; from += batch) {
    const p = client.pipeline()
    for (let i = from, end = Math.min(count, from + batch); i < end; i++) p.xadd(key, '*', FIELD, values[i % values.length])
    const results = await p.exec()
    for (const [err] of results) if (err) throw err
  }
}

/** The value bytes of stream entries [id, [field, value, ...]]. */
function sumValues(entries) {
  let bytes = 0
  for (let i = 0; i < entries.length; i++) bytes += touch(entries[i][1][1])
  return bytes
}

export function redisWorkloads(ctx) {
  const { cfg, root } = ctx
  const version = redisServerVersion()
  const servers = {}
  const clients = {}
  let dir = null
  const rows = []
  for (const valueSize of cfg.valueSizes) {
    const values = makeValues(valueSize)
    const records = cfg.redisRecords[valueSize]
    for (const fsync of ['everysec', 'always']) {
      rows.push({
        id: `redis.xadd.${fsync}.${valueSize}`,
        system: 'Redis Streams',
        section: 'write',
        label: `XADD, pipelines of ${cfg.batch}, AOF appendfsync ${fsync}`,
        valueSize,
        kind: 'write',
        durable: fsync === 'always' ? 'each event-loop turn (before replies)' : 'every second',
        perBatchSync: fsync === 'always',
        async round(r) {
          const client = clients[fsync]
          const key = `w-${valueSize}-${r}`
          try {
            const start = process.hrtime.bigint()
            await xaddAll(client, key, values, records, cfg.batch)
            const seconds = secondsSince(start)
            if ((await client.xlen(key)) !== records) throw new Error('Redis lost entries')
            return { records, bytes: records * valueSize, seconds }
          } finally {
            await client.del(key)
          }
        },
      })
    }

    const key = `read-${valueSize}`
    rows.push({
      id: `redis.xrange.${valueSize}`,
      system: 'Redis Streams',
      section: 'read',
      label: `XRANGE in pages of ${cfg.batch}`,
      valueSize,
      kind: 'read',
      async setup() {
        await xaddAll(clients.everysec, key, values, records, cfg.batch)
      },
      async round() {
        const client = clients.everysec
        const start = process.hrtime.bigint()
        let count = 0
        let valueBytes = 0
        let from = '-'
        for (;;) {
          const entries = await client.xrangeBuffer(key, from, '+', 'COUNT', cfg.batch)
          if (entries.length === 0) break
          valueBytes += sumValues(entries)
          count += entries.length
          from = `(${entries[entries.length - 1][0].toString()}`
        }
        const seconds = secondsSince(start)
        if (count !== records || valueBytes !== records * valueSize) throw new Error(`XRANGE read ${count} of ${records}`)
        return { records: count, bytes: valueBytes, seconds }
      },
    })
    rows.push({
      id: `redis.xreadgroup.${valueSize}`,
      system: 'Redis Streams',
      section: 'read',
      label: `XREADGROUP COUNT ${cfg.batch} from the start (a new group each round, no XACK)`,
      valueSize,
      kind: 'read',
      async round(r) {
        const client = clients.everysec
        const group = `g${r}`
        await client.xgroup('CREATE', key, group, '0')
        try {
          const start = process.hrtime.bigint()
          let count = 0
          let valueBytes = 0
          for (;;) {
            const reply = await client.xreadgroupBuffer('GROUP', group, 'c', 'COUNT', cfg.batch, 'STREAMS', key, '>')
            const entries = reply?.[0]?.[1] ?? []
            if (entries.length === 0) break
            valueBytes += sumValues(entries)
            count += entries.length
          }
          const seconds = secondsSince(start)
          if (count !== records || valueBytes !== records * valueSize) throw new Error(`XREADGROUP read ${count} of ${records}`)
          return { records: count, bytes: valueBytes, seconds }
        } finally {
          await client.xgroup('DESTROY', key, group)
        }
      },
    })
  }
  return {
    name: `Redis Streams (redis-server ${version ?? 'missing'})`,
    skip: version === null ? 'redis-server is not installed: `apt-get install redis-server` to include these rows' : undefined,
    async setup() {
      dir = scratchDir(root, 'redis')
      for (const fsync of ['everysec', 'always']) {
        const sub = scratchDir(dir, fsync)
        servers[fsync] = await startRedis(sub, fsync)
        clients[fsync] = await connect(servers[fsync])
      }
    },
    async teardown() {
      for (const c of Object.values(clients)) c.disconnect()
      for (const s of Object.values(servers)) await s.stop()
      if (dir !== null) removeDir(dir)
    },
    rows,
  }
}

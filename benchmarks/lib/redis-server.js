/**
 * A private redis-server for the Redis Streams rows: 127.0.0.1 on a free port, AOF on with the
 * given appendfsync, no RDB snapshots, its files in a scratch directory. Stopped by its pid.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as net from 'node:net'

export function redisServerVersion() {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (r.error !== undefined || r.status !== 0) return null
  return /v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim()
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

const running = new Set()
process.on('exit', () => {
  // Never leave a server behind, even when the harness fails half-way.
  for (const child of running) child.kill('SIGKILL')
})

export async function startRedis(dir, appendfsync) {
  const port = await freePort()
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', appendfsync,
    '--save', '',
    // A background AOF rewrite would fork in the middle of some rows and not others.
    '--auto-aof-rewrite-percentage', '0',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--logfile', '',
    '--loglevel', 'warning',
  ]
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  // Ready when it accepts a connection (or failed when it exits first).
  const deadline = Date.now() + 10_000
  for (;;) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1')
      sock.once('connect', () => {
        sock.destroy()
        resolve(true)
      })
      sock.once('error', () => resolve(false))
    })
    if (ok) break
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      running.delete(child)
      throw new Error(`redis-server did not start: ${output.trim()}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    port,
    appendfsync,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
      running.delete(child)
    },
  }
}

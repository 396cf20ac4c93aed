/**
 * Starts lib/kafkajs-client.js as a child process and calls it over IPC. The child inherits the
 * harness's node flags, so `node --cpu-prof benchmarks/run.js` profiles the client too (one
 * .cpuprofile per process). Killed by its pid if the harness exits with it still running.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('./kafkajs-client.js', import.meta.url))

const running = new Set()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export async function startKafkaJS(bootstrap) {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  running.add(child)
  const waiting = new Map()
  let nextId = 1
  let exited = null
  child.on('message', (msg) => {
    const w = waiting.get(msg.id)
    if (w === undefined) return
    waiting.delete(msg.id)
    clearTimeout(w.timer)
    if (msg.error !== undefined) w.reject(new Error(`KafkaJS client: ${msg.error}`))
    else w.resolve(msg.result)
  })
  child.on('exit', (code, signal) => {
    running.delete(child)
    exited = `the KafkaJS client exited (${signal ?? code})`
    for (const w of waiting.values()) {
      clearTimeout(w.timer)
      w.reject(new Error(exited))
    }
    waiting.clear()
  })

  /** One operation of the client (see kafkajs-client.js), failed after `timeoutMs`. */
  function call(op, args = {}, timeoutMs = 120_000) {
    if (exited !== null) return Promise.reject(new Error(exited))
    const id = nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id)
        reject(new Error(`KafkaJS client: ${op} took more than ${timeoutMs / 1000} s`))
      }, timeoutMs)
      waiting.set(id, { resolve, reject, timer })
      child.send({ id, op, ...args })
    })
  }

  await call('init', { bootstrap }, 10_000)
  return {
    call,
    async stop() {
      if (exited !== null) return
      await call('close', {}, 10_000).catch(() => undefined)
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.disconnect()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await gone
      clearTimeout(timer)
    },
  }
}

/**
 * kcat (librdkafka's command-line client) for the Kafka-wire rows: found on PATH or not, and run
 * to completion with its own CPU time. It runs under bash so that `times` can report the CPU
 * time kcat used (user + system), which Node cannot read for a child process.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { secondsSince } from './stats.js'

/** kcat's and librdkafka's versions ("kcat 1.7.1, librdkafka 2.0.2"), or null when kcat (or bash) is missing. */
export function kcatVersion() {
  if (spawnSync('bash', ['-c', 'true']).status !== 0) return null
  const r = spawnSync('bash', ['-c', 'command -v kcat >/dev/null && kcat -V'], { encoding: 'utf8' })
  if (r.status !== 0) return null
  const kcat = /Version (\S+)/.exec(r.stdout)?.[1] ?? '?'
  const rdkafka = /librdkafka (\S+)/.exec(r.stdout)?.[1] ?? '?'
  return `kcat ${kcat}, librdkafka ${rdkafka}`
}

const running = new Set()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

// `times` in a subshell: its second line is the CPU time of the subshell's children, i.e. kcat's.
const PRODUCE = 'kcat "$@" < "$KCAT_INPUT"; s=$?; times >&2; exit $s'
const CONSUME = 'set -o pipefail; ( kcat "$@"; s=$?; times >&2; exit $s ) | wc -l'

function parseTimes(stderr) {
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stderr.trimEnd())
  if (m === null) return { cpuMs: null, rest: stderr }
  const cpuMs = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000
  // Drop both lines of `times` (the shell's own, then its children's).
  const rest = stderr.slice(0, m.index).replace(/\d+m[\d.]+s \d+m[\d.]+s\s*$/, '')
  return { cpuMs, rest }
}

/**
 * Run kcat with `args` to completion: with `input` (a file) on its stdin, or else counting the
 * lines it writes (`| wc -l`). Resolves { seconds, cpuMs, lines?, stderr }; rejects when kcat
 * fails or takes longer than `timeoutMs`.
 */
export function runKcat(args, { input = null, timeoutMs = 120_000 } = {}) {
  if (input !== null && !fs.existsSync(input)) return Promise.reject(new Error(`${input} is missing`))
  return new Promise((resolve, reject) => {
    const script = input !== null ? PRODUCE : CONSUME
    const start = process.hrtime.bigint()
    const child = spawn('bash', ['-c', script, 'kcat', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KCAT_INPUT: input ?? '' },
    })
    running.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const seconds = secondsSince(start)
      clearTimeout(timer)
      running.delete(child)
      const { cpuMs, rest } = parseTimes(stderr)
      if (code !== 0) {
        reject(new Error(`kcat ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${rest.trim().slice(0, 500)}`))
        return
      }
      resolve({ seconds, cpuMs, lines: input === null ? Number(stdout.trim()) : undefined, stderr: rest })
    })
  })
}

/**
 * Running the BUILT `samsa` command (packages/cli/dist/bin.js) as a real child process, against
 * real temporary data directories, for the CLI end-to-end tests (test/cli*.test.ts).
 * `pnpm -r build` first (`pnpm test` does).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url))
export const WRITER = fileURLToPath(new URL('./fixtures/cli-writer.mjs', import.meta.url))
const BROKER_DIST = fileURLToPath(new URL('../packages/broker/dist/index.js', import.meta.url))

export function checkBuilt(): void {
  for (const f of [CLI, BROKER_DIST]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run \`pnpm -r build\` before the CLI tests`)
  }
}

const dirs: string[] = []
const children = new Set<ChildProcessWithoutNullStreams>()

export function tempDir(prefix = 'samsa-cli-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

/** Kill what is still running and remove the temporary directories (afterAll). */
export function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  children.clear()
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
}

export interface RunOptions {
  /** Passed as --data-dir before the command's arguments. */
  dataDir?: string
  /** Extra environment; SAMSA_DATA_DIR is removed from the inherited one unless set here. */
  env?: Record<string, string>
  input?: string | Buffer
  cwd?: string
  timeoutMs?: number
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  if (extra.SAMSA_DATA_DIR === undefined) delete env.SAMSA_DATA_DIR
  return env
}

function track(proc: ChildProcessWithoutNullStreams): ChildProcessWithoutNullStreams {
  children.add(proc)
  proc.once('exit', () => children.delete(proc))
  return proc
}

function cliArgs(args: string[], options: RunOptions): string[] {
  return [CLI, ...(options.dataDir !== undefined ? ['--data-dir', options.dataDir] : []), ...args]
}

/** Run `samsa ARGS` to completion. */
export function samsa(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runNode(cliArgs(args, options), options)
}

function runNode(argv: string[], options: RunOptions): Promise<RunResult> {
  return run(process.execPath, argv, options)
}

/** Run any program to completion. */
export function run(program: string, argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const proc = track(spawn(program, argv, { cwd: options.cwd, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] }))
  let stdout = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  proc.stdin.on('error', () => undefined) // a command that does not read stdin may exit first
  proc.stdin.end(options.input ?? '')
  const timeoutMs = options.timeoutMs ?? 30_000
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`${program} ${argv.join(' ')} did not finish in ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`))
    }, timeoutMs)
    proc.once('error', reject)
    proc.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** Run and require exit status 0; returns stdout. */
export async function ok(args: string[], options: RunOptions = {}): Promise<string> {
  const r = await samsa(args, options)
  if (r.code !== 0) throw new Error(`samsa ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

/** stdout as JSON lines. */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T)
}

export interface SeedMessage {
  key?: string | null
  keyBase64?: string
  value?: string | null
  valueBase64?: string
  headers?: { key: string; value?: string | null; valueBase64?: string }[]
  partition?: number
  timestamp?: number
}

export interface SeedSpec {
  topics?: { name: string; partitions?: number; config?: Record<string, unknown> }[]
  /** Each entry is one producer.send (one batch per partition). */
  sends?: { topic: string; messages: SeedMessage[] }[]
}

/** Write a data directory with the embedded API of the built broker, in another process. */
export async function seed(dataDir: string, spec: SeedSpec): Promise<void> {
  const r = await runNode([WRITER, 'seed', dataDir], { input: JSON.stringify(spec) })
  if (r.code !== 0) throw new Error(`seeding ${dataDir} failed (${r.code}): ${r.stderr}`)
}

export interface Line {
  text: string
  /** Date.now() when this process read it. */
  at: number
}

/** A long-running child (a follower or a writer): its stdout lines as they arrive. */
export class Running {
  readonly lines: Line[] = []
  stderr = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private partial = ''
  private readonly waiters = new Set<() => void>()

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    track(proc)
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const at = Date.now()
      const parts = (this.partial + chunk).split('\n')
      this.partial = parts.pop() as string
      for (const text of parts) this.lines.push({ text, at })
      for (const w of [...this.waiters]) w()
    })
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (this.stderr += c))
    proc.stdin.on('error', () => undefined)
    this.exited = new Promise((resolve) => proc.once('close', (code, signal) => {
      for (const w of [...this.waiters]) w()
      resolve({ code, signal })
    }))
  }

  get pid(): number {
    return this.proc.pid as number
  }

  /** Resolves once `count` lines matching `match` have arrived; fails after timeoutMs. */
  waitForLines(match: (text: string) => boolean, count = 1, timeoutMs = 15_000): Promise<Line[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.lines.filter((l) => match(l.text))
        if (found.length >= count) {
          done()
          resolve(found)
        } else if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
          done()
          reject(new Error(`exited (${this.proc.exitCode ?? this.proc.signalCode}) after ${found.length} of ${count} lines; stderr: ${this.stderr}`))
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`only ${this.lines.filter((l) => match(l.text)).length} of ${count} lines in ${timeoutMs} ms; stdout: ${this.lines.map((l) => l.text).join('|')}; stderr: ${this.stderr}`))
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
      check()
    })
  }

  send(line: string): void {
    this.proc.stdin.write(line + '\n')
  }

  /** Send a signal and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal)
    return this.exited
  }
}

/** Start `samsa ARGS` and leave it running. */
export function startSamsa(args: string[], options: RunOptions = {}): Running {
  return new Running(spawn(process.execPath, cliArgs(args, options), { cwd: options.cwd, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] }))
}

/** Start the live writer of fixtures/cli-writer.mjs. */
export function startWriter(dataDir: string, topic: string, count: number, intervalMs: number): Running {
  return new Running(spawn(process.execPath, [WRITER, 'live', dataDir, topic, String(count), String(intervalMs)], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] }))
}

/**
 * A failed command's stderr: one line `samsa: ... (SAMSA_CODE)`, no stack trace; a usage error
 * (exit 2) may add the one hint line that points at --help.
 */
export function errorLines(r: RunResult): string[] {
  return r.stderr.split('\n').filter((l) => l !== '')
}

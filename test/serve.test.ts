/**
 * `samsa serve` as a user runs it: a real process, real kcat against it, the CLI reading the same
 * data directory beside it, and SIGTERM closing it cleanly (every log marked clean-shutdown).
 */
import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url))

function kcat(args: string[], input?: string): string {
  return execFileSync('kcat', args, { input, encoding: 'utf8', timeout: 30_000 })
}

describe('samsa serve', () => {
  it('serves kcat, shows its group lag to the CLI beside it, and stops cleanly on SIGTERM', async () => {
    expect(() => execFileSync('kcat', ['-V'], { stdio: 'ignore' }), 'kcat is not installed: apt-get install kcat').not.toThrow()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-serve-'))
    const server = spawn(process.execPath, [cli, 'serve', '--data-dir', dir, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const listening = await new Promise<{ port: number }>((resolve, reject) => {
        let out = ''
        server.stdout.on('data', (d) => {
          out += d
          const line = out.split('\n').find((l) => l.includes('"listening"'))
          if (line) resolve(JSON.parse(line))
        })
        server.on('exit', (code) => reject(new Error(`serve exited ${code}`)))
      })
      const b = `127.0.0.1:${listening.port}`
      kcat(['-b', b, '-t', 'orders', '-P', '-K:'], 'a:1\nb:2\nc:3\n')
      const read = kcat(['-b', b, '-t', 'orders', '-C', '-o', 'beginning', '-e', '-q', '-f', '%k=%s %o\n'])
      expect(read.trim().split('\n')).toEqual(['a=1 0', 'b=2 1', 'c=3 2'])
      const grouped = kcat(['-b', b, '-G', 'ops', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%s\n', 'orders'])
      expect(grouped.trim().split('\n').sort()).toEqual(['1', '2', '3'])
      const described = JSON.parse(execFileSync(process.execPath, [cli, 'group', 'describe', 'ops', '--data-dir', dir, '--json'], { encoding: 'utf8' }))
      expect(described.partitions).toEqual([expect.objectContaining({ topic: 'orders', partition: 0, committedOffset: 3, logEndOffset: 3, lag: 0 })])
      const stopped = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)))
      server.kill('SIGTERM')
      expect(await stopped).toBe(0)
      expect(fs.existsSync(path.join(dir, 'orders-0', '.clean-shutdown'))).toBe(true)
      expect(fs.existsSync(path.join(dir, '.lock'))).toBe(false)
    } finally {
      server.kill('SIGKILL')
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)
})

#!/usr/bin/env node
/**
 * Builds the optional native CRC-32C (native/crc32c.c) with node-gyp, at install and at build.
 *
 * Optional on purpose: a machine with only Node and npm has no compiler, and Samsa must install
 * and run there. Any failure prints one warning and exits 0; crc32c.ts then uses @node-rs/crc32 or
 * JavaScript, which give the same checksums more slowly. Skipped when the addon is newer than its
 * sources, or with SAMSA_NO_NATIVE=1.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const addon = join(root, 'build', 'Release', 'samsa_crc32c.node')
const sources = [join(root, 'native', 'crc32c.c'), join(root, 'binding.gyp')]

function upToDate() {
  if (!existsSync(addon)) return false
  const built = statSync(addon).mtimeMs
  return sources.every((s) => statSync(s).mtimeMs <= built)
}

/** node-gyp as npm and pnpm hand it to install scripts, else on PATH, else the one npm bundles. */
function nodeGyp() {
  const fromEnv = process.env.npm_config_node_gyp
  if (fromEnv && existsSync(fromEnv)) return /\.[cm]?js$/.test(fromEnv) ? [process.execPath, fromEnv] : [fromEnv]
  const onPath = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' })
  if (onPath.status === 0) return ['node-gyp']
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  if (existsSync(bundled)) return [process.execPath, bundled]
  return null
}

function warn(why) {
  console.warn(`@samsa/log: native CRC-32C not built (${why}); using the portable one, which gives the same checksums more slowly.`)
}

if (process.env.SAMSA_NO_NATIVE === '1' || upToDate()) process.exit(0)
const gyp = nodeGyp()
if (gyp === null) {
  warn('node-gyp not found')
  process.exit(0)
}
const [cmd, ...args] = gyp
// Node's own headers, where its installation has them (distribution packages and the official
// tarballs do): without them node-gyp downloads headers, which needs the internet.
const prefix = join(dirname(process.execPath), '..')
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`)
const run = spawnSync(cmd, [...args, 'rebuild'], { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' })
if (run.status !== 0) {
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ')
  warn(run.error ? run.error.message : `node-gyp failed: ${output}`)
}

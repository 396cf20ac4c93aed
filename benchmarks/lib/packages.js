/**
 * The built Samsa packages under test. Benchmarks run against packages/*\/dist, never the
 * TypeScript sources, so they measure what a user installs.
 */
import * as fs from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

export async function loadLog() {
  let entry
  try {
    entry = import.meta.resolve('@samsa/log')
  } catch {
    throw new Error('@samsa/log is not installed in benchmarks/: run `pnpm install` at the repository root')
  }
  if (!fs.existsSync(fileURLToPath(entry))) {
    throw new Error(`${fileURLToPath(entry)} is missing: run \`pnpm build\` first (or \`pnpm bench\`, which builds)`)
  }
  const log = await import(entry)
  // The offset index is internal to the package; the micro-benchmark reaches it through dist.
  const internals = {
    offsetIndex: await import(new URL('./offset-index.js', entry).href),
  }
  return { ...log, internals }
}

/**
 * @samsa/broker if it is built: through the workspace dependency, else (an install that predates
 * it) from packages/broker/dist. Returns { broker } or { missing: reason }.
 */
export async function loadBroker() {
  try {
    const mod = await import('@samsa/broker')
    if (typeof mod.Broker?.open !== 'function') return { missing: 'not built yet (@samsa/broker has no Broker.open)' }
    return { broker: mod }
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' && err?.code !== 'MODULE_NOT_FOUND') return { missing: `@samsa/broker failed to load: ${err.message}` }
  }
  const pkgFile = `${repoRoot}packages/broker/package.json`
  if (!fs.existsSync(pkgFile)) return { missing: 'not built yet (packages/broker does not exist)' }
  let main
  try {
    const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'))
    main = pkg.exports?.['.']?.default ?? pkg.exports?.['.']?.import ?? pkg.main ?? './dist/index.js'
  } catch (err) {
    return { missing: `packages/broker/package.json is unreadable: ${err.message}` }
  }
  const file = `${repoRoot}packages/broker/${main.replace(/^\.\//, '')}`
  if (!fs.existsSync(file)) return { missing: `not built yet (${main} is missing in packages/broker; run pnpm build)` }
  try {
    const mod = await import(pathToFileURL(file).href)
    if (typeof mod.Broker?.open !== 'function') return { missing: 'not built yet (@samsa/broker has no Broker.open)' }
    return { broker: mod }
  } catch (err) {
    return { missing: `@samsa/broker failed to load: ${err.message}` }
  }
}

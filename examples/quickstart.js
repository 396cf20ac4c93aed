// The quick start's main job: append to a log in ./samsa-data, reopen it and read it back.
// Run with `pnpm start` (which builds first). SAMSA_DATA_DIR overrides the directory.
import * as path from 'node:path'
import { Log } from '@samsa/log'

const dataDir = process.env.SAMSA_DATA_DIR ?? './samsa-data'
const dir = path.join(dataDir, 'quickstart-0')

const log = await Log.open(dir, { flush: 'always' })
const before = log.logEndOffset
const { baseOffset, lastOffset } = await log.append([
  { key: 'greeting', value: 'hello, samsa', headers: { source: 'quickstart' } },
  { key: 'time', value: new Date().toISOString() },
])
console.log(`appended offsets ${baseOffset}-${lastOffset} to ${dir} (fsynced before this line)`)
await log.close()

const reopened = await Log.open(dir, { readOnly: true })
console.log(`reopened: log start ${reopened.logStartOffset}, log end ${reopened.logEndOffset}`)
for (const r of await reopened.read(before)) {
  console.log(`  offset ${r.offset}  ${new Date(r.timestamp).toISOString()}  ${r.key}=${r.value}`)
}
await reopened.close()

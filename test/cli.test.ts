/**
 * The `samsa` command end to end: the BUILT CLI (packages/cli/dist/bin.js) spawned as a child
 * process against real temporary data directories. Topics, produce, consume with every offset
 * form, format strings and --json, where the data directory comes from, bad input with its
 * one-line error and exit status, and --help with examples everywhere.
 * Groups: cli-groups.test.ts; log dump/verify and retention: cli-log.test.ts; following a
 * writer in another process and tail: cli-follow.test.ts.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { checkBuilt, cleanup, errorLines, jsonLines, ok, samsa, seed, tempDir } from './cli-helpers.js'

const MIN = 60_000
const HOUR = 60 * MIN
const now = Date.now()
/** Five records of topic `timed`, one batch each, hours and minutes ago. */
const T = [now - 3 * HOUR, now - 2 * HOUR, now - 90 * MIN, now - 30 * MIN, now - 10 * MIN]
const iso = (ms: number) => new Date(ms).toISOString()

const BIN_KEY = Buffer.from([0x00, 0x01, 0x02, 0xff])
const BIN_VALUE = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x80])
const BIN_HEADER = Buffer.from([0xff, 0x00])

let data: string

beforeAll(async () => {
  checkBuilt()
  data = tempDir()
  await seed(data, {
    topics: [
      { name: 'timed', partitions: 1 },
      { name: 'fmt', partitions: 1 },
      { name: 'bin', partitions: 1 },
      { name: 'multi', partitions: 3 },
    ],
    sends: [
      ...T.map((timestamp, i) => ({ topic: 'timed', messages: [{ value: `t${i}`, timestamp }] })),
      {
        topic: 'fmt',
        messages: [
          { key: 'k1', value: 'hello', headers: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }], timestamp: 1_700_000_000_000 },
          { key: null, value: 'no key', timestamp: 1_700_000_000_001 },
          { key: 'k3', value: null, timestamp: 1_700_000_000_002 },
        ],
      },
      {
        topic: 'bin',
        messages: [{ keyBase64: BIN_KEY.toString('base64'), valueBase64: BIN_VALUE.toString('base64'), headers: [{ key: 'h', valueBase64: BIN_HEADER.toString('base64') }] }],
      },
      { topic: 'multi', messages: [0, 1, 2].flatMap((p) => [0, 1, 2, 3].map((i) => ({ value: `p${p}-${i}`, partition: p }))) },
    ],
  })
})

afterAll(cleanup)

/** Offsets printed by `samsa consume timed -f '%o\n' ...`. */
async function offsets(args: string[]): Promise<number[]> {
  const out = await ok(['consume', 'timed', '-f', '%o\\n', ...args], { dataDir: data })
  return out.split('\n').filter((l) => l !== '').map(Number)
}

/** The partition table of `topic describe`: PARTITION LOG-START-OFFSET LOG-END-OFFSET RECORDS SIZE SEGMENTS. */
function partitionRows(describe: string): string[][] {
  const lines = describe.split('\n')
  const head = lines.findIndex((l) => /^PARTITION\s/.test(l))
  expect(lines[head].split(/\s{2,}/)).toEqual(['PARTITION', 'LOG-START-OFFSET', 'LOG-END-OFFSET', 'RECORDS', 'SIZE', 'SEGMENTS'])
  return lines.slice(head + 1).filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s{2,}/))
}

describe.concurrent('topic', () => {
  test('create with --partitions and repeated --config (camelCase and Kafka dotted names), then describe and list', async ({ expect }) => {
    const dir = tempDir()
    const created = await ok(
      ['topic', 'create', 'orders', '--partitions', '3', '--config', 'retention.ms=3600000', '-c', 'segmentBytes=1048576', '--config', 'retention.bytes=5000000'],
      { dataDir: dir },
    )
    expect(created).toBe('created topic orders with 3 partition(s)\n')
    await ok(['produce', 'orders', '-p', '1'], { dataDir: dir, input: 'a\nb\nc\n' })

    const d = JSON.parse(await ok(['topic', 'describe', 'orders', '--json'], { dataDir: dir }))
    expect(d.name).toBe('orders')
    expect(d.config).toMatchObject({ retentionMs: 3_600_000, segmentBytes: 1_048_576, retentionBytes: 5_000_000, cleanupPolicy: 'delete' })
    expect(d.overrides).toEqual({ retentionMs: 3_600_000, segmentBytes: 1_048_576, retentionBytes: 5_000_000 })
    expect(d.partitions.map((p: { partition: number; logStartOffset: number; logEndOffset: number; segments: number }) => [p.partition, p.logStartOffset, p.logEndOffset, p.segments])).toEqual([
      [0, 0, 0, 1],
      [1, 0, 3, 1],
      [2, 0, 0, 1],
    ])
    const size1 = d.partitions[1].size as number
    expect(size1).toBeGreaterThan(61) // at least one batch header

    const table = await ok(['topic', 'describe', 'orders'], { dataDir: dir })
    // The retention settings in force, and whether the topic set them or they are defaults.
    expect(table).toMatch(/^retentionMs\s+3600000 \(1h\)\s+topic$/m)
    expect(table).toMatch(/^retentionBytes\s+5000000\s+topic$/m)
    expect(table).toMatch(/^segmentBytes\s+1048576\s+topic$/m)
    expect(table).toMatch(/^segmentMs\s+604800000 \(7d\)\s+default$/m)
    expect(partitionRows(table)).toEqual([
      ['0', '0', '0', '0', '0 B', '1'],
      ['1', '0', '3', '3', `${size1} B`, '1'],
      ['2', '0', '0', '0', '0 B', '1'],
    ])

    const list = await ok(['topic', 'list'], { dataDir: dir })
    expect(list.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'PARTITIONS', 'RECORDS', 'SIZE'])
    expect(list.split('\n')[1].trim().split(/\s{2,}/)).toEqual(['orders', '3', '3', `${size1} B`])
    expect(jsonLines(await ok(['topic', 'list', '--json'], { dataDir: dir }))).toEqual([{ name: 'orders', partitions: 3, records: 3, size: size1 }])
  })

  test('options may come before the topic: repeated -c does not swallow it', async ({ expect }) => {
    const dir = tempDir()
    await ok(['topic', 'create', '-c', 'retention.ms=1000', '-c', 'segment.bytes=100000', 'early'], { dataDir: dir })
    const d = JSON.parse(await ok(['topic', 'describe', 'early', '--json'], { dataDir: dir }))
    expect(d.overrides).toEqual({ retentionMs: 1000, segmentBytes: 100_000 })
  })

  test('alter: -c sets, -d resets to the default, -p grows; delete removes', async ({ expect }) => {
    const dir = tempDir()
    await ok(['topic', 'create', 'orders', '-p', '2', '-c', 'retentionMs=3600000'], { dataDir: dir })
    const set = JSON.parse(await ok(['topic', 'alter', 'orders', '-c', 'retention.bytes=1000000', '-c', 'maxMessageBytes=2000', '--json'], { dataDir: dir }))
    expect(set).toMatchObject({ topic: 'orders', partitions: 2, config: { retentionMs: 3_600_000, retentionBytes: 1_000_000, maxMessageBytes: 2000 } })

    expect(await ok(['topic', 'alter', 'orders', '-d', 'retentionMs', '-p', '5'], { dataDir: dir })).toBe('altered topic orders: 5 partition(s)\n')
    const d = JSON.parse(await ok(['topic', 'describe', 'orders', '--json'], { dataDir: dir }))
    expect(d.overrides).toEqual({ retentionBytes: 1_000_000, maxMessageBytes: 2000 })
    expect(d.config.retentionMs).toBe(7 * 24 * HOUR) // back to the default
    expect(d.partitions.map((p: { partition: number }) => p.partition)).toEqual([0, 1, 2, 3, 4])
    expect(fs.existsSync(path.join(dir, 'orders-4'))).toBe(true)

    // Fewer partitions is refused: a failed command, one line.
    const shrink = await samsa(['topic', 'alter', 'orders', '-p', '3'], { dataDir: dir })
    expect(shrink.code).toBe(1)
    expect(errorLines(shrink)).toEqual([expect.stringMatching(/^samsa: .*can only increase.*\(SAMSA_INVALID_PARTITIONS\)$/)])
    const nothing = await samsa(['topic', 'alter', 'orders'], { dataDir: dir })
    expect(nothing.code).toBe(2)

    const exists = await samsa(['topic', 'create', 'orders'], { dataDir: dir })
    expect(exists.code).toBe(1)
    expect(errorLines(exists)).toEqual([expect.stringMatching(/^samsa: .*"orders".*\(SAMSA_TOPIC_EXISTS\)$/)])

    expect(await ok(['topic', 'delete', 'orders'], { dataDir: dir })).toBe('deleted topic orders\n')
    expect(await ok(['topic', 'list'], { dataDir: dir })).toBe('no topics\n')
    expect(await ok(['topic', 'list', '--json'], { dataDir: dir })).toBe('')
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('orders-'))).toEqual([])
    const gone = await samsa(['topic', 'describe', 'orders'], { dataDir: dir })
    expect(gone.code).toBe(1)
    expect(errorLines(gone)).toEqual(['samsa: topic "orders" does not exist; see samsa topic list (SAMSA_UNKNOWN_TOPIC)'])
  })

})

describe.concurrent('produce', () => {
  test('stdin lines, -K separator, repeated -H headers, -p partition, -v partition and offset', async ({ expect }) => {
    const dir = tempDir()
    await ok(['topic', 'create', 'orders', '-p', '3'], { dataDir: dir })
    const r = await samsa(['produce', 'orders', '-K', ':', '-H', 'source=test', '-H', 'v=2', '-p', '2', '-v'], { dataDir: dir, input: 'k1:hello\nk2:wor:ld\nnokey\n' })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('orders partition 2 offset 0\norders partition 2 offset 1\norders partition 2 offset 2\n')
    const records = jsonLines(await ok(['consume', 'orders', '-e', '--json'], { dataDir: dir }))
    const headers = [{ key: 'source', value: 'test' }, { key: 'v', value: '2' }]
    expect(records.map(({ timestamp, ...rest }) => rest)).toEqual([
      { topic: 'orders', partition: 2, offset: 0, headers, key: 'k1', value: 'hello' },
      { topic: 'orders', partition: 2, offset: 1, headers, key: 'k2', value: 'wor:ld' },
      { topic: 'orders', partition: 2, offset: 2, headers, key: null, value: 'nokey' },
    ])
    for (const rec of records) expect(Math.abs((rec.timestamp as number) - Date.now())).toBeLessThan(5 * MIN)

    const noPartition = await samsa(['produce', 'orders', '-p', '7'], { dataDir: dir, input: 'x\n' })
    expect(noPartition.code).toBe(1)
    expect(errorLines(noPartition)).toEqual(['samsa: topic "orders" has no partition 7; its partitions are 0 to 2; add partitions with samsa topic alter orders -p N (SAMSA_UNKNOWN_PARTITION)'])
  })

  test('--file, -v --json, a multi-character separator, and options before the topic', async ({ expect }) => {
    const dir = tempDir()
    await ok(['topic', 'create', 'orders', '-p', '2'], { dataDir: dir })
    const file = path.join(dir, 'lines.txt')
    fs.writeFileSync(file, 'a=>1\nb=>2\n')
    const out = await ok(['produce', '-H', 'h=1', '-K', '=>', '-v', '--json', '--file', file, '-p', '1', 'orders'], { dataDir: dir })
    expect(jsonLines(out)).toEqual([
      { topic: 'orders', partition: 1, offset: 0, timestamp: expect.any(Number) },
      { topic: 'orders', partition: 1, offset: 1, timestamp: expect.any(Number) },
    ])
    expect(await ok(['consume', 'orders', '-e', '-f', '%p %k %v %h\\n'], { dataDir: dir })).toBe('1 a 1 h=1\n1 b 2 h=1\n')
  })

  test('without -v it says how many records it wrote, on stderr; keys pick partitions consistently', async ({ expect }) => {
    const dir = tempDir()
    await ok(['topic', 'create', 'orders', '-p', '4'], { dataDir: dir })
    const input = Array.from({ length: 20 }, (_, i) => `key${i % 5}:v${i}`).join('\n') + '\n'
    const r = await samsa(['produce', 'orders', '-K', ':'], { dataDir: dir, input })
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: 'produced 20 record(s) to orders\n' })
    const records = jsonLines<{ key: string; partition: number }>(await ok(['consume', 'orders', '-e', '--json'], { dataDir: dir }))
    expect(records).toHaveLength(20)
    const partitionOf = new Map<string, Set<number>>()
    for (const rec of records) partitionOf.set(rec.key, (partitionOf.get(rec.key) ?? new Set()).add(rec.partition))
    for (const set of partitionOf.values()) expect(set.size).toBe(1)
  })

})

describe.concurrent('consume: every offset form', () => {
  const cases: [string, string[], number[]][] = [
    ['start', ['-o', 'start', '-e'], [0, 1, 2, 3, 4]],
    ['the default (start)', ['-e'], [0, 1, 2, 3, 4]],
    ['end', ['-o', 'end', '-e'], []],
    ['N', ['-o', '2', '-e'], [2, 3, 4]],
    ['-N', ['-o', '-2', '-e'], [3, 4]],
    ['+N', ['-o', '+1', '-e'], [1, 2, 3, 4]],
    ['N beyond the end', ['-o', '99', '-e'], []],
    ['N:M, which stops by itself', ['-o', '1:3'], [1, 2]],
    ['N:end', ['-o', '3:end'], [3, 4]],
    [':M', ['-o', ':2'], [0, 1]],
    ['@RFC 3339', ['-o', `@${iso(T[2])}`, '-e'], [2, 3, 4]],
    ['@RFC 3339 with an offset', ['-o', `@${new Date(T[2] - 1000).toISOString().replace('Z', '+00:00')}`, '-e'], [2, 3, 4]],
    ['@epoch milliseconds', ['-o', `@${T[3]}`, '-e'], [3, 4]],
    ['@epoch seconds', ['-o', `@${Math.floor(T[3] / 1000)}`, '-e'], [3, 4]],
    ['@relative -1h', ['-o', '@-1h', '-e'], [3, 4]],
    ['@T1:T2 in RFC 3339, which stops by itself', ['-o', `@${iso(T[1])}:${iso(T[3])}`], [1, 2]],
    ['@T1:T2 in epoch ms', ['-o', `@${T[0]}:${T[2]}`, '-e'], [0, 1]],
    ['@T1:DURATION', ['-o', '@-150m:45m', '-e'], [1]],
    ['@T:end', ['-o', '@-100m:end'], [2, 3, 4]],
    ['a time after every record', ['-o', `@${now + HOUR}`, '-e'], []],
    ['-n COUNT', ['-o', 'start', '-n', '2'], [0, 1]],
  ]
  test.for(cases)('%s', async ([, args, expected], { expect }) => {
    expect(await offsets(args)).toEqual(expected)
  })

  test('-1h without @ is a bad offset, not a flag', async ({ expect }) => {
    const r = await samsa(['consume', 'timed', '-o', '-1h', '-e'], { dataDir: data })
    expect(r.code).toBe(2)
    expect(errorLines(r)[0]).toMatch(/^samsa: bad offset "-1h": .*\(SAMSA_USAGE\)$/)
  })

  test('-p picks partitions: one, a list, or repeated; records of each partition in order', async ({ expect }) => {
    const read = async (...p: string[]) => (await ok(['consume', 'multi', '-e', ...p], { dataDir: data })).split('\n').filter(Boolean)
    expect(await read('-p', '1')).toEqual(['p1-0', 'p1-1', 'p1-2', 'p1-3'])
    const two = await read('-p', '0,2')
    expect(two.filter((v) => v.startsWith('p0'))).toEqual(['p0-0', 'p0-1', 'p0-2', 'p0-3'])
    expect(two.filter((v) => v.startsWith('p2'))).toEqual(['p2-0', 'p2-1', 'p2-2', 'p2-3'])
    expect(two).toHaveLength(8)
    expect((await read('-p', '0', '-p', '2')).sort()).toEqual([...two].sort())
    expect(await read('-p', '2', '-o', '-1')).toEqual(['p2-3'])
    const bad = await samsa(['consume', 'multi', '-e', '-p', '3'], { dataDir: data })
    expect(bad.code).toBe(2)
    expect(errorLines(bad)[0]).toBe('samsa: topic multi has no partition 3; it has 3 (SAMSA_USAGE)')
  })
})

describe.concurrent('format strings, --json and encodings', () => {
  test('-f with every % code, %%, \\t and \\n', async ({ expect }) => {
    const out = await ok(['consume', 'fmt', '-e', '-f', '%t|%p|%o|%k|%v|%T|%h|%K|%V|%s|%S|%%\\t<\\n'], { dataDir: data })
    expect(out).toBe(
      'fmt|0|0|k1|hello|1700000000000|a=1,b=2|2|5|hello|5|%\t<\n' +
        'fmt|0|1||no key|1700000000001||-1|6|no key|6|%\t<\n' +
        'fmt|0|2|k3||1700000000002||2|-1||-1|%\t<\n',
    )
    // The default is the value and a newline, as kcat.
    expect(await ok(['consume', 'fmt', '-e'], { dataDir: data })).toBe('hello\nno key\n\n')
  })

  test('--json: one object per record, key and value as UTF-8 strings, null when absent', async ({ expect }) => {
    const out = await ok(['consume', 'fmt', '-e', '--json'], { dataDir: data })
    expect(jsonLines(out)).toEqual([
      { topic: 'fmt', partition: 0, offset: 0, timestamp: 1_700_000_000_000, headers: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }], key: 'k1', value: 'hello' },
      { topic: 'fmt', partition: 0, offset: 1, timestamp: 1_700_000_000_001, headers: [], key: null, value: 'no key' },
      { topic: 'fmt', partition: 0, offset: 2, timestamp: 1_700_000_000_002, headers: [], key: 'k3', value: null },
    ])
  })

  test('--encoding base64 and hex for binary keys, values and headers', async ({ expect }) => {
    for (const encoding of ['base64', 'hex'] as const) {
      const [rec] = jsonLines(await ok(['consume', 'bin', '-e', '--json', '--encoding', encoding], { dataDir: data }))
      expect(rec).toMatchObject({ key: BIN_KEY.toString(encoding), value: BIN_VALUE.toString(encoding), headers: [{ key: 'h', value: BIN_HEADER.toString(encoding) }] })
      expect(Buffer.from(rec.value as string, encoding).equals(BIN_VALUE)).toBe(true)
    }
    expect(await ok(['consume', 'bin', '-e', '--encoding', 'hex', '-f', '%k %v %h %K %V\\n'], { dataDir: data })).toBe('000102ff deadbeef0080 h=ff00 4 6\n')
  })

  test('a format with an unknown % code is a usage error', async ({ expect }) => {
    const r = await samsa(['consume', 'fmt', '-e', '-f', '%v %z'], { dataDir: data })
    expect(r.code).toBe(2)
    expect(errorLines(r)[0]).toMatch(/^samsa: unknown format sequence %z/)
  })
})

describe.concurrent('where the data is', () => {
  test('--data-dir, else SAMSA_DATA_DIR, else ./samsa-data; the flag wins over the variable', async ({ expect }) => {
    const cwd = tempDir()
    const byEnv = tempDir()
    await ok(['topic', 'create', 'from-default'], { cwd })
    expect(fs.existsSync(path.join(cwd, 'samsa-data', 'from-default-0'))).toBe(true)
    await ok(['topic', 'create', 'from-env'], { cwd, env: { SAMSA_DATA_DIR: byEnv } })
    expect(fs.existsSync(path.join(byEnv, 'from-env-0'))).toBe(true)
    const env = { SAMSA_DATA_DIR: byEnv }
    expect(jsonLines(await ok(['topic', 'list', '--json'], { cwd, env })).map((t) => t.name)).toEqual(['from-env'])
    expect(jsonLines(await ok(['topic', 'list', '--json', '--data-dir', path.join(cwd, 'samsa-data')], { cwd, env })).map((t) => t.name)).toEqual(['from-default'])
    expect(jsonLines(await ok(['topic', 'list', '--json'], { cwd })).map((t) => t.name)).toEqual(['from-default'])
  })

  test('a read command on a directory that does not exist fails and creates nothing', async ({ expect }) => {
    const missing = path.join(tempDir(), 'nope')
    const r = await samsa(['topic', 'list'], { dataDir: missing })
    expect(r.code).toBe(1)
    expect(errorLines(r)).toEqual([`samsa: data directory ${missing} does not exist; pass --data-dir or set SAMSA_DATA_DIR (SAMSA_NOT_FOUND)`])
    expect(fs.existsSync(missing)).toBe(false)
  })
})

describe.concurrent('bad input: one line on stderr, no stack, and the exit status', () => {
  // Commands that open the directory for writing get their own: one writer at a time.
  const failures: [string, string[], number, RegExp, ('shared' | 'fresh')?][] = [
    ['an unknown topic', ['consume', 'nope', '-e'], 1, /^samsa: topic "nope" does not exist; see samsa topic list \(SAMSA_UNKNOWN_TOPIC\)$/],
    ['an unknown topic (produce, before reading stdin)', ['produce', 'nope'], 1, /^samsa: topic "nope" does not exist.*\(SAMSA_UNKNOWN_TOPIC\)$/, 'fresh'],
    ['a bad offset expression', ['consume', 'timed', '-o', 'bogus', '-e'], 2, /^samsa: bad offset "bogus": .*\(SAMSA_USAGE\)$/],
    ['a backwards offset range', ['consume', 'timed', '-o', '5:2'], 2, /^samsa: bad offset "5:2": the end 2 is before the start 5.*\(SAMSA_USAGE\)$/],
    ['a bad config key', ['topic', 'create', 'fresh', '-c', 'retention.foo=1'], 1, /^samsa: unknown topic config "retention.foo".*\(SAMSA_INVALID_CONFIG\)$/, 'fresh'],
    ['a bad config value', ['topic', 'create', 'fresh', '-c', 'retention.ms=soon'], 1, /^samsa: config retention.ms must be an integer.*\(SAMSA_INVALID_CONFIG\)$/, 'fresh'],
    ['a bad config key (alter)', ['topic', 'alter', 'timed', '-c', 'colour=blue'], 1, /^samsa: unknown topic config "colour".*\(SAMSA_INVALID_CONFIG\)$/, 'fresh'],
    ['a config without =', ['topic', 'create', 'fresh', '-c', 'retention.ms'], 2, /^samsa: --config takes key=value, got "retention.ms" \(SAMSA_USAGE\)$/, 'fresh'],
    ['an invalid topic name', ['topic', 'create', 'bad name!'], 1, /^samsa: invalid topic name "bad name!": .*\(SAMSA_INVALID_TOPIC_NAME\)$/, 'fresh'],
    ['an unknown flag', ['consume', 'timed', '-e', '--bogus'], 2, /^samsa: unknown option --bogus \(SAMSA_USAGE\)$/],
    ['an unknown command', ['frobnicate'], 2, /^samsa: unknown command "frobnicate"; samsa takes topic, .*\(SAMSA_USAGE\)$/],
    ['a misspelt command', ['gruop', 'list'], 2, /^samsa: unknown command "gruop"; did you mean group\? \(SAMSA_USAGE\)$/],
    ['an unknown subcommand', ['topic', 'frob'], 2, /^samsa: unknown command "frob"; samsa topic takes create, list, describe, delete or alter \(SAMSA_USAGE\)$/],
    ['a missing topic argument', ['consume'], 2, /^samsa: samsa consume is missing an argument .*\(SAMSA_USAGE\)$/],
    ['an invalid choice', ['consume', 'timed', '--encoding', 'rot13'], 2, /^samsa: invalid value "rot13" for --encoding; choose one of "utf8", "base64", "hex" \(SAMSA_USAGE\)$/],
    ['-e with --follow', ['consume', 'timed', '-e', '--follow'], 2, /^samsa: -e .* and --follow contradict each other.*\(SAMSA_USAGE\)$/],
    ['no command', [], 2, /^samsa: name a command; see samsa --help \(SAMSA_USAGE\)$/],
  ]
  test.for(failures)('%s', async ([, args, status, message, where], { expect }) => {
    const dir = where === 'fresh' ? tempDir() : data
    const r = await samsa(args, { dataDir: dir })
    expect(r.code).toBe(status)
    expect(r.stdout).toBe('')
    const lines = errorLines(r)
    expect(lines[0]).toMatch(message)
    // Exit 1: exactly the one line. Exit 2 (usage): that line and the hint that points at --help.
    expect(lines.slice(1)).toEqual(status === 2 ? ['Run samsa --help (or samsa <command> --help) for usage.'] : [])
    expect(r.stderr).not.toMatch(/^\s+at /m)
    if (where === 'fresh') expect(fs.readdirSync(dir).filter((n) => /-\d+$/.test(n))).toEqual([]) // no topic was made
  })

  test('--debug shows the stack', async ({ expect }) => {
    const r = await samsa(['consume', 'nope', '-e', '--debug'], { dataDir: data })
    expect(r.code).toBe(1)
    const lines = errorLines(r)
    expect(lines[0]).toMatch(/UnknownTopicOrPartitionError: topic "nope" does not exist/)
    expect(lines.filter((l) => /^\s+at .*\.js:\d+:\d+\)?$/.test(l)).length).toBeGreaterThan(1)
  })

  test('failed commands leave the data unchanged', async ({ expect }) => {
    const r = jsonLines(await ok(['topic', 'list', '--json'], { dataDir: data }))
    expect(r.map((t) => t.name)).toEqual(['bin', 'fmt', 'multi', 'timed'])
  })
})

describe.concurrent('help', () => {
  const commands = [
    [],
    ['topic'],
    ['topic', 'create'],
    ['topic', 'list'],
    ['topic', 'describe'],
    ['topic', 'delete'],
    ['topic', 'alter'],
    ['produce'],
    ['consume'],
    ['tail'],
    ['group'],
    ['group', 'list'],
    ['group', 'describe'],
    ['group', 'reset-offsets'],
    ['group', 'delete'],
    ['log'],
    ['log', 'dump'],
    ['log', 'verify'],
    ['retention'],
    ['retention', 'run'],
    ['serve'],
  ]
  test.for(commands)('samsa %s --help shows examples', async (cmd, { expect }) => {
    const r = await samsa([...cmd, '--help'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n')[0]).toBe(['samsa', ...cmd].join(' ') + (cmd.length === 0 ? ' <command> [options]' : '') + usageSuffix(cmd))
    const examples = r.stdout.split('\nExamples:\n')[1]
    expect(examples).toBeDefined()
    // Every example is a samsa command line (or, for serve, a Kafka client to point at it).
    const first = examples.split('\n').filter((l) => l.trim() !== '')[0]
    expect(first).toMatch(cmd.length === 0 ? /^ {2}(printf .*\| )?samsa / : new RegExp(`^ {2}(\\S+ .*\\| )?samsa ${cmd.join(' ')}`))
  })
})

/** The positionals yargs shows after a command's name on the first line of its help. */
function usageSuffix(cmd: string[]): string {
  const key = cmd.join(' ')
  const positional: Record<string, string> = {
    'topic create': ' <topic>',
    'topic describe': ' <topic>',
    'topic delete': ' <topic>',
    'topic alter': ' <topic>',
    produce: ' <topic>',
    consume: ' <topic>',
    tail: ' <topic>',
    'group describe': ' <group>',
    'group reset-offsets': ' <group>',
    'group delete': ' <group>',
    'log dump': ' <path>',
    'log verify': ' [topic]',
  }
  return positional[key] ?? ''
}

/** What the figures were measured on: CPU, cores, memory, node, kernel and the disk under the data directory. */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim()
  } catch {
    return null
  }
}

/** The mount holding `dir`: the longest mount point that prefixes its real path. */
function mountOf(dir) {
  const real = fs.realpathSync(dir)
  let best = null
  for (const line of (readText('/proc/mounts') ?? '').split('\n')) {
    const [device, mountPoint, fsType, options] = line.split(' ')
    if (mountPoint === undefined) continue
    const prefix = mountPoint.endsWith('/') ? mountPoint : mountPoint + '/'
    if ((real === mountPoint || (real + '/').startsWith(prefix)) && (best === null || mountPoint.length > best.mountPoint.length)) {
      best = { device, mountPoint, fsType, options }
    }
  }
  return best
}

/** Model and kind of the block device behind `device` (e.g. /dev/vda1 -> vda), from sysfs. */
function blockDevice(device) {
  if (!device?.startsWith('/dev/')) return {}
  let name = path.basename(fs.existsSync(device) ? fs.realpathSync(device) : device)
  // A partition's queue settings live on its parent disk.
  if (!fs.existsSync(`/sys/block/${name}`)) {
    const parent = fs.readdirSync('/sys/block').find((d) => name.startsWith(d))
    if (parent !== undefined) name = parent
  }
  const rotational = readText(`/sys/block/${name}/queue/rotational`)
  let driver = null
  try {
    driver = path.basename(fs.realpathSync(`/sys/block/${name}/device/driver`))
  } catch {
    // No driver link (a loop or RAM disk): the name says enough.
  }
  // virtio exposes PCI ids as vendor/model, which mean nothing to a reader: name the driver instead.
  const model = driver?.startsWith('virtio') ? null : readText(`/sys/block/${name}/device/model`)
  return {
    name,
    model: model ?? driver,
    // virtio-blk reports every disk as rotational, whatever the host has behind it.
    rotational: rotational === null || driver === 'virtio_blk' ? null : rotational === '1',
    scheduler: readText(`/sys/block/${name}/queue/scheduler`),
  }
}

export function describeMachine(dataDir) {
  const cpus = os.cpus()
  const mount = mountOf(dataDir)
  let free = null
  try {
    const st = fs.statfsSync(dataDir)
    free = st.bavail * st.bsize
  } catch {
    // statfs is missing on very old nodes; the free space is only informative.
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    disk: {
      dataDir,
      device: mount?.device ?? null,
      mountPoint: mount?.mountPoint ?? null,
      fsType: mount?.fsType ?? null,
      mountOptions: mount?.options ?? null,
      freeBytes: free,
      ...blockDevice(mount?.device),
    },
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
}

const CRC_NAMES = {
  clmul: "Samsa's native addon (carry-less multiplication)",
  'node-rs': '@node-rs/crc32 (the native addon was not built)',
  js: 'JavaScript (no native CRC-32C on this machine)',
}

export function machineSummary(m) {
  const gib = (b) => `${(b / 2 ** 30).toFixed(1)} GiB`
  const d = m.disk
  const disk = [d.device, d.model, d.fsType, d.rotational === false ? 'non-rotational' : d.rotational ? 'rotational' : null]
    .filter(Boolean)
    .join(', ')
  return [
    `CPU: ${m.cpu}, ${m.cores} cores`,
    `Memory: ${gib(m.memoryBytes)}`,
    `Node: ${m.node} (${m.platform})`,
    ...(m.crc32c ? [`CRC-32C: ${CRC_NAMES[m.crc32c] ?? m.crc32c}`] : []),
    `Disk: ${disk} (data in ${d.dataDir}, mounted on ${d.mountPoint})`,
    `Load average at start: ${m.loadAverage.join(' ')}`,
  ]
}

/**
 * A local two-shard ClickHouse cluster: two `clickhouse-server` processes on 127.0.0.1 with their own ports and
 * data directories, sharing a `remote_servers` entry `two_shards`. Installs Debian's clickhouse-server with
 * apt-get when it is missing. No ZooKeeper: tables are created on each node (no `ON CLUSTER`).
 *
 *   npx tsx scripts/clickhouse-two-shards.ts [dir]   # starts the cluster and waits; Ctrl+C stops it
 *
 * Used by test/clickhouse/two-shards.test.ts; docs/clickhouse.md shows the generated configuration.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

export interface NodeSpec {
  readonly name: string
  readonly httpPort: number
  readonly tcpPort: number
}

export const CLUSTER_NAME = 'two_shards'

export const DEFAULT_NODES: readonly NodeSpec[] = [
  { name: 'shard1', httpPort: 18123, tcpPort: 19000 },
  { name: 'shard2', httpPort: 28123, tcpPort: 29000 },
]

export interface RunningCluster {
  readonly dir: string
  readonly urls: readonly string[]
  stop(): Promise<void>
}

const SERVER = '/usr/bin/clickhouse-server'

/** Makes sure Debian's clickhouse-server is installed (apt-get), throwing with apt's output when it cannot be. */
export function ensureInstalled(): string {
  const found = spawnSync('sh', ['-c', 'command -v clickhouse-server'], { encoding: 'utf8' })
  if (found.status === 0 && found.stdout.trim() !== '') return found.stdout.trim()
  const apt = spawnSync('apt-get', ['install', '-y', 'clickhouse-server', 'clickhouse-client'], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  if (apt.status !== 0) {
    throw new Error(`apt-get install clickhouse-server failed: ${apt.stderr || apt.stdout}`)
  }
  return existsSync(SERVER) ? SERVER : 'clickhouse-server'
}

/** The server configuration of one node (root `<yandex>`, as clickhouse-server 18.x expects). */
export function nodeConfig(dir: string, node: NodeSpec, nodes: readonly NodeSpec[]): string {
  const shards = nodes
    .map(
      (n) =>
        `      <shard><replica><host>127.0.0.1</host><port>${n.tcpPort}</port></replica></shard>`,
    )
    .join('\n')
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/server.log</log>
    <errorlog>${dir}/server.err.log</errorlog>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${node.httpPort}</http_port>
  <tcp_port>${node.tcpPort}</tcp_port>
  <interserver_http_port>${node.httpPort + 1}</interserver_http_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <remote_servers>
    <${CLUSTER_NAME}>
${shards}
    </${CLUSTER_NAME}>
  </remote_servers>
</yandex>
`
}

const USERS = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

async function waitForPing(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = performance.now() + 30_000
  let exited: number | null = null
  child.once('exit', (code) => {
    exited = code ?? -1
  })
  while (performance.now() < deadline) {
    if (exited !== null) {
      const log = await readFile(logFile, 'utf8').catch(() => '')
      throw new Error(`clickhouse-server exited with ${exited}: ${log.slice(-2000)}`)
    }
    try {
      const r = await fetch(`${url}/ping`)
      if (r.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 100))
  }
  const log = await readFile(logFile, 'utf8').catch(() => '')
  throw new Error(`clickhouse-server did not answer ${url}/ping within 30 s: ${log.slice(-2000)}`)
}

/** Starts the nodes in `dir` (a fresh temporary directory by default) and waits until each answers /ping. */
export async function startCluster(
  nodes: readonly NodeSpec[] = DEFAULT_NODES,
  baseDir?: string,
): Promise<RunningCluster> {
  const server = ensureInstalled()
  const dir = baseDir ?? (await mkdtemp(join(tmpdir(), 'memberlens-cluster-')))
  const children: ChildProcess[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((ok) => {
            if (c.exitCode !== null || c.signalCode !== null) return ok()
            c.once('exit', () => ok())
            c.kill('SIGTERM')
            setTimeout(() => c.kill('SIGKILL'), 5000).unref()
          }),
      ),
    )
    if (baseDir === undefined) await rm(dir, { recursive: true, force: true })
  }
  try {
    for (const node of nodes) {
      const nodeDir = resolve(dir, node.name)
      for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) {
        await mkdir(join(nodeDir, sub), { recursive: true })
      }
      await writeFile(join(nodeDir, 'config.xml'), nodeConfig(nodeDir, node, nodes))
      await writeFile(join(nodeDir, 'users.xml'), USERS)
      const child = spawn(server, [`--config-file=${join(nodeDir, 'config.xml')}`], {
        cwd: nodeDir,
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      child.stderr?.resume()
      children.push(child)
      await waitForPing(`http://127.0.0.1:${node.httpPort}`, child, join(nodeDir, 'server.err.log'))
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { dir, urls: nodes.map((n) => `http://127.0.0.1:${n.httpPort}`), stop }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cluster = await startCluster(DEFAULT_NODES, process.argv[2])
  process.stdout.write(`two shards up: ${cluster.urls.join(' ')} (cluster ${CLUSTER_NAME})\n`)
  await new Promise<void>((ok) => {
    process.once('SIGINT', ok)
    process.once('SIGTERM', ok)
  })
  await cluster.stop()
}

import { startRedisServer } from "@tandem/adapter-redis/testing"
import type { ChildScripts } from "../net/build.js"
import type { ClientSpec } from "../net/clients/client.js"
import { now, sleep } from "../net/clock.js"
import { type RunOutcome, Session } from "../net/harness.js"
import { Histogram } from "../net/histogram.js"
import { instanceOf } from "../net/instance-of.js"
import type { Values } from "../net/scenarios.js"
import { TANDEM } from "../net/systems.js"
import { countersBetween, type RedisCounters, readRedisCounters } from "./redis-info.js"

/** The work of issue 7's benchmark: the same clients against either topology. */
export const WORKLOAD = { clients: 500, perRoom: 10, presenceHz: 2, editHz: 1, chars: 256 }

export interface Topology {
  key: "cluster" | "single"
  name: string
  instances: number
  redis: boolean
}

export const CLUSTER: Topology = { key: "cluster", name: "3 instances + Redis", instances: 3, redis: true }
export const SINGLE: Topology = { key: "single", name: "1 instance", instances: 1, redis: false }

export interface RoundOptions {
  durationMs: number
  /** Clients (default WORKLOAD.clients), in rooms of WORKLOAD.perRoom. */
  clients?: number
  /** Run the relays under --cpu-prof into this directory. */
  profileDir?: string
}

/** Prefix of the values that count Redis calls per update sent, by command. */
export const COMMAND_PREFIX = "cmd:"

/**
 * One round: a fresh redis-server (for the cluster), the relay instances and the load generators,
 * 500 clients connected (client `id` to instance `instanceOf(id)`, so every room has members on
 * every instance), then a measured window of presence and edits.
 */
export async function runRound(
  topology: Topology,
  scripts: ChildScripts,
  options: RoundOptions,
): Promise<Values> {
  const redis = topology.redis ? await startRedisServer() : null
  let session: Session | null = null
  try {
    const servers = Array.from({ length: topology.instances }, (_, i) =>
      redis ? [`--redis=${redis.url}`, `--instance=bench-${i + 1}`] : [],
    )
    session = await Session.open(TANDEM, scripts, {
      servers,
      ...(options.profileDir && { profileDir: options.profileDir }),
    })
    await everyInstanceLinked(session, topology.instances)
    const specs = await clientsOf(session, options.clients ?? WORKLOAD.clients)
    await session.connect(specs, { batch: 100, timeoutMs: 180_000 })
    await sleep(2_000)

    const readings: RedisCounters[] = []
    const out = await session.run({
      presenceHz: WORKLOAD.presenceHz,
      editHz: WORKLOAD.editHz,
      warmupMs: 3_000,
      durationMs: options.durationMs,
      drainMs: 3_000,
      crossServer: true,
      ...(redis && {
        atEdge: async () => {
          readings.push(await readRedisCounters(redis.port))
        },
      }),
    })
    const [before, after] = readings
    const window = before && after ? countersBetween(before, after) : null
    return valuesOf(out, window, options.durationMs)
  } finally {
    await session?.close()
    await redis?.close()
  }
}

/** Waits until each instance sees all the others (a relay link to each), or gives up. */
async function everyInstanceLinked(session: Session, instances: number): Promise<void> {
  if (instances === 1) return
  const deadline = now() + 30_000
  for (;;) {
    const seen = await session.instances()
    if (seen.every((count) => count === instances)) return
    if (now() > deadline) throw new Error(`instances see ${seen.join("/")} of ${instances} after 30 s`)
    await sleep(100)
  }
}

async function clientsOf(session: Session, clients: number): Promise<ClientSpec[]> {
  const { perRoom, chars } = WORKLOAD
  const rooms = Array.from({ length: Math.ceil(clients / perRoom) }, (_, r) => `room-${r}`)
  // Stored on every instance, as a service that has run a while holds it (each instance stores every
  // update it reads from the stream): the window measures relaying, not first fetches.
  const ids = await session.prepare(rooms.map((name) => ({ name, chars, hot: false })))
  return Array.from({ length: clients }, (_, i) => {
    const id = i + 1
    const room = rooms[Math.floor(i / perRoom)] as string
    const url = session.urls[instanceOf(id, session.urls.length)] as string
    return { id, url, room, channel: ids[room] as string, presence: true, doc: true }
  })
}

function valuesOf(out: RunOutcome, redis: RedisCounters | null, durationMs: number): Values {
  const delivered = out.presenceDelivered + out.editsDelivered
  if (delivered === 0) throw new Error("nothing was delivered")
  const sent = out.presenceSent + out.editsSent
  const all = Histogram.from([out.presence.toData(), out.edits.toData()])
  const cross = Histogram.from([out.crossPresence.toData(), out.crossEdits.toData()])
  const serverCpu = out.servers.reduce((total, server) => total + server.cpu, 0)
  const wallUs = out.server.wallMs * 1000
  const values: Values = {
    crossP50: cross.quantile(0.5),
    crossP99: cross.quantile(0.99),
    crossPresenceP99: out.crossPresence.quantile(0.99),
    crossEditP99: out.crossEdits.quantile(0.99),
    p50: all.quantile(0.5),
    p99: all.quantile(0.99),
    rate: delivered / (durationMs / 1000),
    cpu: serverCpu / delivered,
    serverCpuPct: (100 * serverCpu) / wallUs,
    delivered: (100 * delivered) / Math.max(1, sent * (WORKLOAD.perRoom - 1)),
    serverEld: Math.max(...out.servers.map((server) => server.end.eld.p99)),
    loadgenCpu: out.loadgenCpuPct,
    loadgenEld: out.loadgenEldP99,
    clientErrors: out.failures.length,
  }
  if (cross.total > 0) values.crossShare = (100 * cross.total) / delivered
  if (redis) {
    values.redisPerUpdate = redis.commands / sent
    values.redisPerDelivery = redis.commands / delivered
    values.redisCpu = redis.cpu / delivered
    values.redisCpuPct = (100 * redis.cpu) / wallUs
    for (const [name, calls] of Object.entries(redis.calls)) values[`${COMMAND_PREFIX}${name}`] = calls / sent
  }
  return values
}

import type { ClientSpec } from "./clients/client.js"
import { sleep } from "./clock.js"
import type { RunOutcome, Session } from "./harness.js"
import { Histogram } from "./histogram.js"
import type { SystemKey } from "./systems.js"

/** One round's figures, by metric key. */
export type Values = Record<string, number>

export interface Metric {
  key: string
  label: string
  unit: string
  /** Rates: higher is better. Times, CPU and memory: lower is better. */
  higherIsBetter: boolean
  /** Context only (how complete the delivery was, how loaded the machine was): no ratio. */
  context?: boolean
  /** Tandem / best peer must be at most (lower is better) or at least (higher) this. */
  ratioTarget?: number
  /** Tandem's own figure must be at most (lower is better) or at least (higher) this. */
  absoluteTarget?: number
}

export interface Scenario {
  key: string
  title: string
  /** How it runs, for BENCHMARKS.md. */
  describe(mode: RunMode): string
  metrics: Metric[]
  /** Systems that cannot do this scenario here, and exactly why. */
  cannot?: Partial<Record<SystemKey, string>>
  rounds(mode: RunMode): number
  run(session: Session, mode: RunMode): Promise<Values>
}

/**
 * How long a run takes: `quick` (a short pass), `default` (what `pnpm bench` runs: the whole
 * matrix in minutes) or `full` (the issue's durations: 60 s of mixed load, more rounds). Every mode
 * keeps the scenarios' sizes; only rounds and measured windows change.
 */
export type RunMode = "quick" | "default" | "full"

/** One figure per mode. */
function byMode<T>(mode: RunMode, values: { quick: T; default: T; full: T }): T {
  return values[mode]
}

const MiB = 1024 * 1024

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

/** `clients` clients in rooms of `perRoom`, room by room; every room has a document. */
async function roomsOf(
  session: Session,
  clients: number,
  perRoom: number,
  chars: number,
  what: { presence: boolean; doc: boolean },
): Promise<ClientSpec[]> {
  const rooms = range(Math.ceil(clients / perRoom)).map((r) => `room-${r}`)
  const ids = await session.prepare(rooms.map((name) => ({ name, chars, hot: false })))
  return range(clients).map((i) => {
    const room = rooms[Math.floor(i / perRoom)] as string
    return { id: i + 1, room, channel: ids[room] as string, ...what }
  })
}

function exact(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

/** Figures every run reports beside its own: how complete delivery was, how loaded the machine. */
function context(out: RunOutcome, delivered: number, expected: number): Values {
  return {
    delivered: (100 * delivered) / Math.max(1, expected),
    serverEld: out.server.end.eld.p99,
    loadgenCpu: out.loadgenCpuPct,
    serverCpuPct: (100 * out.server.cpu) / (out.server.wallMs * 1000),
    clientErrors: out.failures.length,
  }
}

const contextMetrics: Metric[] = [
  { key: "delivered", label: "delivered, % of expected", unit: "%", higherIsBetter: true, context: true },
  {
    key: "serverCpuPct",
    label: "server CPU, % of one core",
    unit: "%",
    higherIsBetter: false,
    context: true,
  },
  {
    key: "serverEld",
    label: "server event-loop delay p99",
    unit: "ms",
    higherIsBetter: false,
    context: true,
  },
  {
    key: "loadgenCpu",
    label: "load generators' CPU, % of one core",
    unit: "%",
    higherIsBetter: false,
    context: true,
  },
  {
    key: "clientErrors",
    label: "errors thrown by the client library",
    unit: "",
    higherIsBetter: false,
    context: true,
  },
]

const PRESENCE = { clients: 500, perRoom: 50, hz: 2, seconds: { quick: 4, default: 5, full: 20 } }

export const presenceFanout: Scenario = {
  key: "presence",
  title: "1. Presence fan-out",
  describe: (mode) =>
    `${PRESENCE.clients} clients in ${PRESENCE.clients / PRESENCE.perRoom} rooms of ${PRESENCE.perRoom}, each updating its presence at ${PRESENCE.hz} Hz for ${PRESENCE.seconds[mode]} s`,
  rounds: (mode) => byMode(mode, { quick: 1, default: 1, full: 3 }),
  metrics: [
    {
      key: "cpu",
      label: "server CPU per delivered update",
      unit: "µs",
      higherIsBetter: false,
      ratioTarget: 0.3,
      absoluteTarget: 3,
    },
    { key: "p50", label: "latency p50", unit: "ms", higherIsBetter: false },
    {
      key: "p99",
      label: "latency p99",
      unit: "ms",
      higherIsBetter: false,
      ratioTarget: 1,
      absoluteTarget: 10,
    },
    { key: "rate", label: "deliveries per second", unit: "/s", higherIsBetter: true },
    ...contextMetrics,
  ],
  async run(session, mode) {
    const { clients, perRoom, hz } = PRESENCE
    const specs = await roomsOf(session, clients, perRoom, 0, { presence: true, doc: false })
    await session.connect(specs, { batch: 100, timeoutMs: 120_000 })
    await sleep(2_000)
    const durationMs = PRESENCE.seconds[mode] * 1000
    const out = await session.run({ presenceHz: hz, editHz: 0, warmupMs: 2_000, durationMs, drainMs: 2_000 })
    const delivered = out.presenceDelivered
    if (delivered === 0) throw new Error("no presence update was delivered")
    return {
      cpu: out.server.cpu / delivered,
      p50: out.presence.quantile(0.5),
      p99: out.presence.quantile(0.99),
      rate: delivered / (durationMs / 1000),
      ...context(out, delivered, out.presenceSent * (perRoom - 1)),
    }
  },
}

const EDITS = { observers: 1000, hz: 10, seconds: { quick: 3, default: 4, full: 10 } }

export const editFanout: Scenario = {
  key: "edits",
  title: "2. Edit fan-out",
  describe: (mode) =>
    `1 writer and ${EDITS.observers.toLocaleString("en-US")} observers of one document; the writer appends a short text at ${EDITS.hz} updates/s for ${EDITS.seconds[mode]} s`,
  rounds: (mode) => byMode(mode, { quick: 1, default: 1, full: 3 }),
  metrics: [
    {
      key: "cpu",
      label: "server CPU per update per observer",
      unit: "µs",
      higherIsBetter: false,
      ratioTarget: 0.3,
      absoluteTarget: 3,
    },
    { key: "p50", label: "latency p50", unit: "ms", higherIsBetter: false },
    { key: "p99", label: "latency p99", unit: "ms", higherIsBetter: false, ratioTarget: 1 },
    ...contextMetrics,
  ],
  async run(session, mode) {
    const ids = await session.prepare([{ name: "doc", chars: 0, hot: false }])
    const channel = ids.doc as string
    const specs: ClientSpec[] = range(EDITS.observers + 1).map((i) => ({
      id: i + 1,
      room: "doc",
      channel,
      presence: false,
      doc: true,
    }))
    await session.connect(specs, { batch: 200, timeoutMs: 180_000 })
    await sleep(2_000)
    const durationMs = EDITS.seconds[mode] * 1000
    const out = await session.run({
      presenceHz: 0,
      editHz: EDITS.hz,
      editors: [1],
      warmupMs: 2_000,
      durationMs,
      drainMs: 3_000,
    })
    const delivered = out.editsDelivered
    if (delivered === 0) throw new Error("no edit was delivered")
    return {
      cpu: out.server.cpu / delivered,
      p50: out.edits.quantile(0.5),
      p99: out.edits.quantile(0.99),
      ...context(out, delivered, out.editsSent * EDITS.observers),
    }
  },
}

const IDLE = { clients: 2000, perRoom: 10, chars: 256 }

export const idleMemory: Scenario = {
  key: "idle",
  title: "3. Idle memory",
  describe: () =>
    `${IDLE.clients.toLocaleString("en-US")} idle clients in ${IDLE.clients / IDLE.perRoom} rooms of ${IDLE.perRoom}, each room with one document (${IDLE.chars} characters of text, in the server's store until a client opens it), every client with presence and the document open`,
  rounds: (mode) => byMode(mode, { quick: 1, default: 1, full: 3 }),
  metrics: [
    {
      key: "perConnection",
      label: "server RSS per idle connection",
      unit: "KiB",
      higherIsBetter: false,
      ratioTarget: 0.8,
      absoluteTarget: 5,
    },
    {
      key: "heapPerConnection",
      label: "JS heap per idle connection",
      unit: "KiB",
      higherIsBetter: false,
      context: true,
    },
    {
      key: "rss",
      label: "server RSS with every client connected",
      unit: "MiB",
      higherIsBetter: false,
      context: true,
    },
  ],
  async run(session) {
    const specs = await roomsOf(session, IDLE.clients, IDLE.perRoom, IDLE.chars, {
      presence: true,
      doc: true,
    })
    await sleep(500)
    const before = await session.gc()
    await session.connect(specs, { batch: 200, timeoutMs: 240_000 })
    await sleep(3_000)
    const after = await session.gc()
    await session.heapSnapshot()
    return {
      perConnection: (after.rss - before.rss) / IDLE.clients / 1024,
      heapPerConnection: (after.heapUsed - before.heapUsed) / IDLE.clients / 1024,
      rss: after.rss / MiB,
    }
  },
}

const STORM = { clients: 150, chars: 4 * MiB }

export const joinStorm: Scenario = {
  key: "storm",
  title: "4. Join storm",
  describe: () =>
    `${STORM.clients} clients open one document of ${STORM.chars / MiB} MiB of text (4 KiB paragraphs appended one by one, loaded in the server before they come) at once`,
  rounds: (mode) => byMode(mode, { quick: 1, default: 2, full: 3 }),
  cannot: {
    automerge:
      "each client must load the whole document, and with Automerge 3.5.0 loading this 4 MiB text takes about 3.7 s of CPU and 520 MB of memory per client (measured on this machine), so 150 clients need about 75 GB and 9 CPU-minutes; in a trial run every client's find() gave up (its 60 s timeout) before it was synced",
  },
  metrics: [
    { key: "p50", label: "time to synced p50", unit: "ms", higherIsBetter: false, ratioTarget: 0.5 },
    { key: "p99", label: "time to synced p99", unit: "ms", higherIsBetter: false },
    { key: "peakRss", label: "server peak RSS", unit: "MiB", higherIsBetter: false, ratioTarget: 0.5 },
    {
      key: "growth",
      label: "server peak RSS over its RSS before the storm",
      unit: "MiB",
      higherIsBetter: false,
      context: true,
    },
  ],
  async run(session) {
    const ids = await session.prepare([{ name: "big", chars: STORM.chars, hot: true }], 600_000)
    const channel = ids.big as string
    await sleep(500)
    await session.gc()
    const before = await session.reset()
    const specs: ClientSpec[] = range(STORM.clients).map((i) => ({
      id: i + 1,
      room: "big",
      channel,
      presence: false,
      doc: true,
    }))
    const result = await session.connect(specs, { timeoutMs: 300_000 })
    const after = await session.stats()
    const short = result.textLengths.filter((length) => length !== STORM.chars)
    if (short.length > 0)
      throw new Error(
        `${short.length} clients synced without the whole text (one has ${short[0]} characters)`,
      )
    const times = result.ready.map((ready, i) => ready - (result.started[i] as number))
    return {
      p50: exact(times, 0.5),
      p99: exact(times, 0.99),
      peakRss: after.peakRss / MiB,
      growth: (after.peakRss - before.rss) / MiB,
    }
  },
}

const CONNECT = { clients: 500 }

export const connectRate: Scenario = {
  key: "connect",
  title: "5. Connect rate",
  describe: () =>
    `${CONNECT.clients} clients connect at once (after 20 warm-up connections, which stay): the time from creating the first client to the last handshake`,
  rounds: (mode) => byMode(mode, { quick: 2, default: 3, full: 5 }),
  metrics: [
    {
      key: "rate",
      label: "handshakes completed per second",
      unit: "/s",
      higherIsBetter: true,
      ratioTarget: 1.5,
      absoluteTarget: 3300,
    },
    { key: "p50", label: "time to handshake p50", unit: "ms", higherIsBetter: false, context: true },
    { key: "p99", label: "time to handshake p99", unit: "ms", higherIsBetter: false, context: true },
  ],
  async run(session) {
    const ids = await session.prepare([{ name: "lobby", chars: 0, hot: false }])
    const channel = ids.lobby as string
    await sleep(300)
    const spec = (id: number): ClientSpec => ({ id, room: "lobby", channel, presence: false, doc: false })
    // A few connections first, so the server's code is compiled before the clock starts.
    await session.connect(
      range(20).map((i) => spec(100_000 + i)),
      { timeoutMs: 60_000 },
    )
    await sleep(500)
    const result = await session.connect(
      range(CONNECT.clients).map((i) => spec(i + 1)),
      { timeoutMs: 120_000 },
    )
    const first = Math.min(...result.started)
    const last = Math.max(...result.ready)
    const times = result.ready.map((ready, i) => ready - (result.started[i] as number))
    return {
      rate: CONNECT.clients / ((last - first) / 1000),
      p50: exact(times, 0.5),
      p99: exact(times, 0.99),
    }
  },
}

export const MIXED = {
  clients: 1000,
  perRoom: 20,
  presenceHz: 1,
  editHz: 0.2,
  chars: 1024,
  seconds: { quick: 8, default: 10, full: 60 },
}

/** Scenario 6's load on a connected session: what the soak repeats for as long as it is told. */
export async function connectMixed(session: Session): Promise<void> {
  const { clients, perRoom, chars } = MIXED
  const specs = await roomsOf(session, clients, perRoom, chars, { presence: true, doc: true })
  await session.connect(specs, { batch: 100, timeoutMs: 240_000 })
  await sleep(2_000)
}

export function mixedValues(out: RunOutcome, durationMs: number): Values {
  const { perRoom } = MIXED
  const delivered = out.presenceDelivered + out.editsDelivered
  if (delivered === 0) throw new Error("nothing was delivered")
  const all = new Histogram()
  all.merge(out.presence.toData())
  all.merge(out.edits.toData())
  return {
    cpu: out.server.cpu / delivered,
    p50: all.quantile(0.5),
    p99: all.quantile(0.99),
    presenceP99: out.presence.quantile(0.99),
    editP99: out.edits.quantile(0.99),
    rss: out.server.end.rss / MiB,
    peakRss: out.server.end.peakRss / MiB,
    rate: delivered / (durationMs / 1000),
    ...context(out, delivered, (out.presenceSent + out.editsSent) * (perRoom - 1)),
  }
}

export const mixed: Scenario = {
  key: "mixed",
  title: "6. Mixed",
  describe: (mode) =>
    `${MIXED.clients.toLocaleString("en-US")} clients in rooms of ${MIXED.perRoom}, each with presence at ${MIXED.presenceHz} Hz and an edit of the room's document (${MIXED.chars} characters to start) every ${1 / MIXED.editHz} s, for ${MIXED.seconds[mode]} s`,
  rounds: (mode) => byMode(mode, { quick: 1, default: 1, full: 2 }),
  metrics: [
    {
      key: "cpu",
      label: "server CPU per delivered update",
      unit: "µs",
      higherIsBetter: false,
      ratioTarget: 0.3,
    },
    { key: "p50", label: "latency p50 (presence and edits)", unit: "ms", higherIsBetter: false },
    {
      key: "p99",
      label: "latency p99 (presence and edits)",
      unit: "ms",
      higherIsBetter: false,
      ratioTarget: 1,
    },
    { key: "presenceP99", label: "presence latency p99", unit: "ms", higherIsBetter: false, context: true },
    { key: "editP99", label: "edit latency p99", unit: "ms", higherIsBetter: false, context: true },
    { key: "rss", label: "server RSS at the end", unit: "MiB", higherIsBetter: false },
    { key: "peakRss", label: "server peak RSS during the run", unit: "MiB", higherIsBetter: false },
    { key: "rate", label: "deliveries per second", unit: "/s", higherIsBetter: true, context: true },
    ...contextMetrics,
  ],
  async run(session, mode) {
    await connectMixed(session)
    const durationMs = MIXED.seconds[mode] * 1000
    const out = await session.run({
      presenceHz: MIXED.presenceHz,
      editHz: MIXED.editHz,
      warmupMs: 3_000,
      durationMs,
      drainMs: 3_000,
    })
    return mixedValues(out, durationMs)
  },
}

export const SCENARIOS: Scenario[] = [presenceFanout, editFanout, idleMemory, joinStorm, connectRate, mixed]

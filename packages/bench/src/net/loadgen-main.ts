import { monitorEventLoopDelay } from "node:perf_hooks"
import type { ClientDriver, ClientSpec, NetClient } from "./clients/client.js"
import { now, sleep, sleepUntil } from "./clock.js"
import { editStamp, type PresenceValue, parseStamps } from "./content.js"
import { Histogram, type HistogramData } from "./histogram.js"
import { instanceOf } from "./instance-of.js"
import { serve } from "./ipc.js"

/**
 * A load generator: `node loadgen-main.js <system>` runs many clients of one system in its own
 * process and measures delivery latency on the shared clock.
 */
export interface ConnectArgs {
  url: string
  specs: ClientSpec[]
  /** Connect this many at a time, each batch once the previous is ready (default: all at once). */
  batch?: number
  timeoutMs: number
}

export interface ConnectResult {
  /** Shared-clock times, per spec: when the client was created, and when it was ready. */
  started: number[]
  ready: number[]
  textLengths: number[]
}

export interface RunArgs {
  /** Presence updates per second per client (0: none). */
  presenceHz: number
  /** Edits per second per editing client (0: none). */
  editHz: number
  /** Ids of the clients that edit (every client with a document when absent). */
  editors?: number[]
  /** Shared-clock times: sending starts at `from` and stops at `windowEnd`. */
  from: number
  windowStart: number
  windowEnd: number
  /** How long after the end deliveries are still waited for. */
  drainMs: number
  /**
   * Clients are spread over this many server instances, client `id` on instance
   * `instanceOf(id, instances)`: deliveries between instances are also recorded on their own.
   */
  instances?: number
}

export interface RunResult {
  presence: HistogramData
  edits: HistogramData
  /** The deliveries whose sender is on another instance than the receiver (with `instances`). */
  crossPresence: HistogramData
  crossEdits: HistogramData
  /** Updates sent within the window by this process's clients. */
  presenceSent: number
  editsSent: number
  /** Deliveries of updates sent within the window, counted once per receiver. */
  presenceDelivered: number
  editsDelivered: number
  /** This process's CPU time over the run (µs) and its event-loop delay p99 (ms). */
  cpu: number
  wallMs: number
  eldP99: number
  /** Uncaught errors from client libraries during the run. */
  failures: string[]
}

const system = process.argv[2] ?? ""
const { driver } = (await import(`./clients/${system}.js`)) as { driver: ClientDriver }
const eld = monitorEventLoopDelay({ resolution: 5 })
eld.enable()

interface Live {
  spec: ClientSpec
  client: NetClient
  /** Latest sequence number seen per sender, for presence and for edits. */
  presenceSeen: Map<number, number>
  editsSeen: Map<number, number>
}

const live: Live[] = []

/**
 * Errors thrown from a client library's own callbacks (automerge-repo's adapter throws when it
 * sends on a socket that is closing): counted and reported, so that one client's trouble does
 * not take down the others.
 */
const failures: string[] = []
process.on("uncaughtException", (error) => {
  failures.push(error instanceof Error ? error.message : String(error))
})
/** Where arrivals are recorded while a run measures. */
let window: {
  start: number
  end: number
  presence: Histogram
  edits: Histogram
  crossPresence: Histogram
  crossEdits: Histogram
  instances: number
  presenceDelivered: number
  editsDelivered: number
} | null = null

function crosses(sender: number, receiver: number, instances: number): boolean {
  return instances > 1 && instanceOf(sender, instances) !== instanceOf(receiver, instances)
}

function onPresence(self: Live, value: PresenceValue): void {
  const at = now()
  if (value.s === self.spec.id) return
  const last = self.presenceSeen.get(value.s) ?? 0
  if (value.n <= last) return
  self.presenceSeen.set(value.s, value.n)
  if (window && value.t >= window.start && value.t < window.end) {
    window.presence.record(at - value.t)
    if (crosses(value.s, self.spec.id, window.instances)) window.crossPresence.record(at - value.t)
    window.presenceDelivered++
  }
}

function onInserted(self: Live, text: string): void {
  const at = now()
  for (const stamp of parseStamps(text)) {
    if (stamp.sender === self.spec.id) continue
    const last = self.editsSeen.get(stamp.sender) ?? 0
    if (stamp.seq <= last) continue
    self.editsSeen.set(stamp.sender, stamp.seq)
    if (window && stamp.at >= window.start && stamp.at < window.end) {
      window.edits.record(at - stamp.at)
      if (crosses(stamp.sender, self.spec.id, window.instances)) window.crossEdits.record(at - stamp.at)
      window.editsDelivered++
    }
  }
}

async function connect({ url, specs, batch, timeoutMs }: ConnectArgs): Promise<ConnectResult> {
  const started: number[] = []
  const ready: number[] = []
  const deadline = now() + timeoutMs
  const size = batch ?? specs.length
  const first = live.length
  for (let offset = 0; offset < specs.length; offset += size) {
    const waits: Promise<void>[] = []
    for (const [i, spec] of specs.slice(offset, offset + size).entries()) {
      const index = offset + i
      started[index] = now()
      const entry: Live = {
        spec,
        client: null as unknown as NetClient,
        presenceSeen: new Map(),
        editsSeen: new Map(),
      }
      entry.client = driver.connect(spec.url ?? url, spec, {
        presence: (value) => onPresence(entry, value),
        inserted: (text) => onInserted(entry, text),
      })
      live.push(entry)
      waits.push(
        entry.client.ready.then(() => {
          ready[index] = now()
        }),
      )
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const done = ready.filter((t) => t !== undefined).length
        reject(new Error(`${done} of ${specs.length} clients ready after ${timeoutMs} ms`))
      }, deadline - now())
    })
    try {
      await Promise.race([Promise.all(waits), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
  const textLengths = live.slice(first).map((entry) => entry.client.textLength())
  return { started, ready, textLengths }
}

async function run(args: RunArgs): Promise<RunResult> {
  const { presenceHz, editHz, from, windowStart, windowEnd, drainMs } = args
  window = {
    start: windowStart,
    end: windowEnd,
    presence: new Histogram(),
    edits: new Histogram(),
    crossPresence: new Histogram(),
    crossEdits: new Histogram(),
    instances: args.instances ?? 1,
    presenceDelivered: 0,
    editsDelivered: 0,
  }
  const editors = new Set(
    args.editors ?? live.filter((entry) => entry.spec.doc).map((entry) => entry.spec.id),
  )
  let presenceSent = 0
  let editsSent = 0
  const timers: ReturnType<typeof setTimeout>[] = []
  const loop = (hz: number, act: (seq: number, at: number) => void) => {
    const period = 1000 / hz
    let seq = 0
    let due = from + Math.random() * period
    const tick = () => {
      const at = now()
      if (at >= windowEnd) return
      act(++seq, at)
      due += period
      timers.push(setTimeout(tick, due - now()))
    }
    timers.push(setTimeout(tick, due - now()))
  }
  for (const entry of live) {
    if (presenceHz > 0 && entry.spec.presence) {
      loop(presenceHz, (seq, at) => {
        entry.client.setPresence({ x: seq % 800, y: seq % 600, s: entry.spec.id, n: seq, t: at })
        if (at >= windowStart) presenceSent++
      })
    }
    if (editHz > 0 && editors.has(entry.spec.id)) {
      loop(editHz, (seq, at) => {
        entry.client.append(editStamp(entry.spec.id, seq, at))
        if (at >= windowStart) editsSent++
      })
    }
  }
  await sleepUntil(windowStart)
  eld.reset()
  const cpu0 = process.cpuUsage()
  const wall0 = now()
  await sleepUntil(windowEnd)
  const cpu = process.cpuUsage(cpu0)
  const wallMs = now() - wall0
  const eldP99 = eld.percentile(99) / 1e6
  await sleep(drainMs)
  for (const timer of timers) clearTimeout(timer)
  const w = window
  window = null
  return {
    presence: w.presence.toData(),
    edits: w.edits.toData(),
    crossPresence: w.crossPresence.toData(),
    crossEdits: w.crossEdits.toData(),
    presenceSent,
    editsSent,
    presenceDelivered: w.presenceDelivered,
    editsDelivered: w.editsDelivered,
    cpu: cpu.user + cpu.system,
    wallMs,
    eldP99,
    failures: failures.splice(0),
  }
}

async function close(): Promise<void> {
  const closing = live.splice(0).map((entry) => entry.client.close().catch(() => {}))
  await Promise.race([Promise.all(closing), sleep(10_000)])
}

serve({
  connect,
  run,
  close,
  ping: () => ({ pid: process.pid }),
  /** Exits soon (so a --cpu-prof profile gets written), after answering. */
  exit: () => {
    setTimeout(() => process.exit(0), 20)
    return null
  },
})

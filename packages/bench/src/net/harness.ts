import type { ChildScripts } from "./build.js"
import type { ClientSpec } from "./clients/client.js"
import { now, sleep, sleepUntil } from "./clock.js"
import { Histogram } from "./histogram.js"
import { Child } from "./ipc.js"
import type { ConnectArgs, ConnectResult, RunArgs, RunResult } from "./loadgen-main.js"
import type { ServerStats } from "./server-main.js"
import type { DocRequest } from "./servers/server.js"
import type { NetSystem } from "./systems.js"

/** Load-generator processes per round: with the server, they keep both cores busy. */
export const LOADGENS = 2

export interface SessionOptions {
  /** Run the server under `node --cpu-prof`, writing its profile into this directory on exit. */
  profileDir?: string
  /** Profile the load generators too (into `loadgens/` under `profileDir`). */
  profileLoadgens?: boolean
  /**
   * Several server processes (instances of one service), each given these extra arguments
   * (`--redis=URL --instance=ID`); default one server with none.
   */
  servers?: readonly (readonly string[])[]
}

/** What the server did over a measured window. */
export interface ServerWindow {
  /** CPU time (user + system) of the server process in the window, µs. */
  cpu: number
  wallMs: number
  start: ServerStats
  end: ServerStats
}

export interface RunOutcome {
  /** The first server's window (the only one, unless the session has several). */
  server: ServerWindow
  servers: ServerWindow[]
  presence: Histogram
  edits: Histogram
  /** Deliveries from a sender on another server than the receiver (sessions of several servers). */
  crossPresence: Histogram
  crossEdits: Histogram
  presenceSent: number
  editsSent: number
  presenceDelivered: number
  editsDelivered: number
  /**
   * Load generators: CPU as % of one core, summed over processes, each over its own window (a
   * generator that lags opens and closes its window late), and the worst event-loop delay p99 (ms).
   */
  loadgenCpuPct: number
  loadgenEldP99: number
  /** Uncaught errors thrown by the client library in the load generators. */
  failures: string[]
}

/**
 * One round of one system: its server in a child process of its own (or several instances, each in
 * its own), and LOADGENS load generators, each in a child process, running that system's clients.
 */
export class Session {
  private constructor(
    readonly system: NetSystem,
    readonly servers: Child[],
    readonly loadgens: Child[],
    /** What clients connect to, per server. */
    readonly urls: string[],
    /** Where profiles go, when profiling. */
    readonly profileDir: string | undefined,
  ) {}

  get profiling(): boolean {
    return this.profileDir !== undefined
  }

  /** The first server: the one documents are prepared on and stats are asked of. */
  get server(): Child {
    return this.servers[0] as Child
  }

  get url(): string {
    return this.urls[0] as string
  }

  static async open(
    system: NetSystem,
    scripts: ChildScripts,
    options: SessionOptions = {},
  ): Promise<Session> {
    const execArgv = ["--expose-gc"]
    if (options.profileDir) execArgv.push("--cpu-prof", `--cpu-prof-dir=${options.profileDir}`)
    const serverArgs = options.servers ?? [[]]
    const servers = serverArgs.map(
      (args, i) =>
        new Child(
          `${system.name} server${serverArgs.length > 1 ? ` ${i + 1}` : ""}`,
          scripts.server,
          [system.key, ...args],
          execArgv,
        ),
    )
    const loadgens = Array.from(
      { length: LOADGENS },
      (_, i) =>
        new Child(
          `${system.name} load generator ${i + 1}`,
          scripts.loadgen,
          [system.key],
          options.profileDir && options.profileLoadgens
            ? ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}/loadgens`]
            : [],
        ),
    )
    try {
      const ready = (await Promise.all(servers.map((child) => child.ready))) as { port: number }[]
      await Promise.all(loadgens.map((child) => child.ready))
      const urls = ready.map(({ port }) => system.url(port))
      return new Session(system, servers, loadgens, urls, options.profileDir)
    } catch (error) {
      await Promise.all([...servers, ...loadgens].map((child) => child.kill()))
      throw error
    }
  }

  /**
   * Stores the documents on every server (instances of one service each keep their own store,
   * with the same content); returns the ids the first one gave.
   */
  async prepare(docs: readonly DocRequest[], timeoutMs = 300_000): Promise<Record<string, string>> {
    const ids = await Promise.all(
      this.servers.map((child) => child.request<Record<string, string>>("prepare", docs, timeoutMs)),
    )
    return ids[0] as Record<string, string>
  }

  stats(): Promise<ServerStats> {
    return this.server.request("stats")
  }

  /** The instances each server sees in its service, itself included (1 without Redis). */
  instances(): Promise<number[]> {
    return Promise.all(this.servers.map((child) => child.request<number>("instances")))
  }

  /** Event-loop delay and peak RSS count from now on. */
  reset(): Promise<ServerStats> {
    return this.server.request("reset")
  }

  /** Collects the server's garbage, then reads its stats. */
  gc(): Promise<ServerStats> {
    return this.server.request("gc")
  }

  /** When profiling: writes a heap snapshot of the server into the profile directory. */
  async heapSnapshot(): Promise<void> {
    if (this.profileDir) await this.server.request("heap-snapshot", { dir: this.profileDir }, 120_000)
  }

  /** Spreads the clients over the load generators (client i on generator i mod LOADGENS). */
  async connect(
    specs: readonly ClientSpec[],
    options: Omit<ConnectArgs, "url" | "specs">,
  ): Promise<ConnectResult> {
    const parts = this.loadgens.map((_, g) => specs.filter((_, i) => i % this.loadgens.length === g))
    const results = await Promise.all(
      this.loadgens.map((child, g) =>
        child.request<ConnectResult>(
          "connect",
          { url: this.url, specs: parts[g], ...options } satisfies ConnectArgs,
          options.timeoutMs + 10_000,
        ),
      ),
    )
    const merged: ConnectResult = { started: [], ready: [], textLengths: [] }
    for (let i = 0; i < specs.length; i++) {
      const g = i % this.loadgens.length
      const j = Math.floor(i / this.loadgens.length)
      const result = results[g] as ConnectResult
      merged.started.push(result.started[j] as number)
      merged.ready.push(result.ready[j] as number)
      merged.textLengths.push(result.textLengths[j] as number)
    }
    return merged
  }

  /**
   * Clients send from `lead` ms from now; the window opens `warmupMs` later and lasts
   * `durationMs`. The server's CPU time is read at both ends of the window.
   */
  async run(options: {
    presenceHz: number
    editHz: number
    editors?: number[]
    warmupMs: number
    durationMs: number
    drainMs: number
    /** Clients are spread over the servers by id (see `instanceOf`): record cross-server deliveries. */
    crossServer?: boolean
    /** Called beside the servers' own readings when the window opens and when it closes. */
    atEdge?: (edge: "start" | "end") => Promise<void>
    /** Called every `everyMs` during the window (the soak's samples). */
    sample?: { everyMs: number; fn: (elapsedMs: number) => Promise<void> }
  }): Promise<RunOutcome> {
    const from = now() + 300
    const windowStart = from + options.warmupMs
    const windowEnd = windowStart + options.durationMs
    const args: RunArgs = {
      presenceHz: options.presenceHz,
      editHz: options.editHz,
      ...(options.editors && { editors: options.editors }),
      from,
      windowStart,
      windowEnd,
      drainMs: options.drainMs,
      ...(options.crossServer && { instances: this.servers.length }),
    }
    // A generator behind by minutes still reports: its latencies say how far behind it was.
    const timeout = windowEnd - now() + options.drainMs + 180_000
    const results = Promise.all(this.loadgens.map((child) => child.request<RunResult>("run", args, timeout)))
    // A failing generator must not leave the window's timers waiting: surface it at the end.
    results.catch(() => {})
    await sleepUntil(windowStart)
    const [starts] = await Promise.all([
      Promise.all(this.servers.map((child) => child.request<ServerStats>("reset"))),
      options.atEdge?.("start"),
    ])
    if (options.sample) {
      const { everyMs, fn } = options.sample
      for (let next = windowStart + everyMs; next < windowEnd - 1; next += everyMs) {
        await sleepUntil(next)
        await fn(now() - windowStart)
      }
    }
    await sleepUntil(windowEnd)
    const [ends] = await Promise.all([
      Promise.all(this.servers.map((child) => child.request<ServerStats>("stats"))),
      options.atEdge?.("end"),
    ])
    const wallMs = now() - windowStart
    const outcomes = await results
    const servers = ends.map((end, i): ServerWindow => {
      const start = starts[i] as ServerStats
      return { cpu: end.cpu - start.cpu, wallMs, start, end }
    })
    return {
      server: servers[0] as ServerWindow,
      servers,
      presence: Histogram.from(outcomes.map((o) => o.presence)),
      edits: Histogram.from(outcomes.map((o) => o.edits)),
      crossPresence: Histogram.from(outcomes.map((o) => o.crossPresence)),
      crossEdits: Histogram.from(outcomes.map((o) => o.crossEdits)),
      presenceSent: sum(outcomes.map((o) => o.presenceSent)),
      editsSent: sum(outcomes.map((o) => o.editsSent)),
      presenceDelivered: sum(outcomes.map((o) => o.presenceDelivered)),
      editsDelivered: sum(outcomes.map((o) => o.editsDelivered)),
      loadgenCpuPct: sum(outcomes.map((o) => (100 * o.cpu) / (Math.max(1, o.wallMs) * 1000))),
      loadgenEldP99: Math.max(...outcomes.map((o) => o.eldP99)),
      failures: outcomes.flatMap((o) => o.failures),
    }
  }

  /** Ends the round: the servers first (cleanly when profiling, so their profiles are written). */
  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(async (server) => {
        if (this.profiling && server.alive) {
          await server.request("exit", {}, 10_000).catch(() => {})
          await server.stop(30_000)
        } else {
          await server.kill()
        }
      }),
    )
    await Promise.all(
      this.loadgens.map(async (child) => {
        if (!this.profiling || !child.alive) return child.kill()
        await child.request("exit", {}, 10_000).catch(() => {})
        await child.stop(30_000)
      }),
    )
    // Let the kernel finish tearing the sockets down before the next round.
    await sleep(200)
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

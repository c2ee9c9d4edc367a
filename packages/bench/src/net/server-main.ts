import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { writeHeapSnapshot } from "node:v8"
import { sleep } from "./clock.js"
import { serve } from "./ipc.js"
import type { DocRequest, ServerOptions, StartServer } from "./servers/server.js"

/**
 * A server under test, alone in its process: `node server-main.js <system> [--redis=URL
 * --instance=ID]`. It listens on a free loopback port and reports its own CPU time, memory,
 * event-loop delay and handles on request.
 */
export interface ServerStats {
  /** User + system CPU time since the process started, µs. */
  cpu: number
  rss: number
  /** Highest RSS since the last reset (the kernel's VmHWM), bytes. */
  peakRss: number
  heapUsed: number
  /** Memory outside the JS heap that V8 knows of: Loro's WebAssembly memory, buffers. */
  external: number
  handles: number
  /** Event-loop delay since the last reset, ms. */
  eld: { p50: number; p99: number; max: number; mean: number }
}

const system = process.argv[2] ?? ""
const flag = (name: string) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const redis = flag("redis")
const instanceId = flag("instance")
const options: ServerOptions = {
  ...(redis !== undefined && { redis }),
  ...(instanceId !== undefined && { instanceId }),
}
const { start } = (await import(`./servers/${system}.js`)) as { start: StartServer }
const server = await start(options)
const eld = monitorEventLoopDelay({ resolution: 5 })
eld.enable()
const gc = (globalThis as { gc?: () => void }).gc

function peakRss(): number {
  const status = readFileSync("/proc/self/status", "utf8")
  const match = /VmHWM:\s+(\d+) kB/.exec(status)
  return match ? Number(match[1]) * 1024 : process.memoryUsage.rss()
}

function stats(): ServerStats {
  const cpu = process.cpuUsage()
  const memory = process.memoryUsage()
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length
  return {
    cpu: cpu.user + cpu.system,
    rss: memory.rss,
    peakRss: peakRss(),
    heapUsed: memory.heapUsed,
    external: memory.external,
    handles,
    eld: {
      p50: eld.percentile(50) / 1e6,
      p99: eld.percentile(99) / 1e6,
      max: eld.max / 1e6,
      mean: eld.mean / 1e6,
    },
  }
}

serve(
  {
    prepare: (docs: DocRequest[]) => server.prepare(docs),
    stats,
    instances: () => server.instances?.() ?? 1,
    /** Starts a measurement: event-loop delay and peak RSS count from here. */
    reset: () => {
      eld.reset()
      try {
        writeFileSync("/proc/self/clear_refs", "5")
      } catch {
        // Not Linux, or not allowed: the peak then counts from the start of the process.
      }
      return stats()
    },
    gc: async () => {
      for (let i = 0; i < 3; i++) {
        gc?.()
        await sleep(30)
      }
      return stats()
    },
    /** Writes a heap snapshot (after collecting garbage) into `dir`. */
    "heap-snapshot": ({ dir }: { dir: string }) => {
      gc?.()
      mkdirSync(dir, { recursive: true })
      return writeHeapSnapshot(join(dir, `server-${process.pid}.heapsnapshot`))
    },
    /** Exits soon (so a --cpu-prof profile gets written), after answering. */
    exit: () => {
      setTimeout(() => process.exit(0), 20)
      return null
    },
  },
  { port: server.port },
)

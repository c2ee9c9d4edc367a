import { type Machine, machineLine } from "../machine.js"
import { sectionEnd, sectionStart } from "../sections.js"
import { compileChildren } from "./build.js"
import { Session } from "./harness.js"
import { format } from "./matrix.js"
import { connectMixed, MIXED, mixedValues } from "./scenarios.js"
import { TANDEM, versionOf } from "./systems.js"

const MiB = 1024 * 1024
export const SOAK_EVERY_MS = 30_000

export interface SoakSample {
  elapsedS: number
  rssMiB: number
  heapMiB: number
  /** Outside the JS heap: Loro's WebAssembly memory and buffers (`process.memoryUsage().external`). */
  externalMiB: number
  handles: number
}

export interface SoakResult {
  durationMs: number
  samples: SoakSample[]
  values: Record<string, number>
}

/** "30m", "2m", "90s", "1h", or bare minutes. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match) throw new Error(`--soak wants a duration such as 30m, 90s or 1h, not "${text}"`)
  const value = Number(match[1])
  const unit = match[2] ?? "m"
  return value * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"]
}

/** Scenario 6's load against Tandem alone for `durationMs`, the relay sampled every 30 s. */
export async function runSoak(durationMs: number, log: (line: string) => void): Promise<SoakResult> {
  const scripts = await compileChildren()
  const session = await Session.open(TANDEM, scripts)
  const samples: SoakSample[] = []
  const record = async (elapsedMs: number) => {
    const stats = await session.stats()
    const sample = {
      elapsedS: Math.round(elapsedMs / 1000),
      rssMiB: stats.rss / MiB,
      heapMiB: stats.heapUsed / MiB,
      externalMiB: stats.external / MiB,
      handles: stats.handles,
    }
    samples.push(sample)
    log(
      `soak ${String(sample.elapsedS).padStart(6)} s  RSS ${format(sample.rssMiB)} MiB  heap ${format(sample.heapMiB)} MiB  external ${format(sample.externalMiB)} MiB  handles ${sample.handles}`,
    )
  }
  try {
    await connectMixed(session)
    await record(0)
    const out = await session.run({
      presenceHz: MIXED.presenceHz,
      editHz: MIXED.editHz,
      warmupMs: 3_000,
      durationMs,
      drainMs: 3_000,
      sample: { everyMs: SOAK_EVERY_MS, fn: record },
    })
    await record(out.server.wallMs)
    return { durationMs, samples, values: mixedValues(out, durationMs) }
  } finally {
    await session.close()
  }
}

export function soakSection(result: SoakResult, machine: Machine, date: Date): string {
  const { samples, values } = result
  const first = samples[0]
  const last = samples[samples.length - 1]
  const minutes = result.durationMs / 60_000
  const growth =
    first && last && last.elapsedS > 0
      ? `RSS ${format(first.rssMiB)} → ${format(last.rssMiB)} MiB, outside the heap ${format(first.externalMiB)} → ${format(last.externalMiB)} MiB, handles ${first.handles} → ${last.handles}`
      : ""
  return [
    sectionStart("net-soak"),
    "## Network: soak",
    "",
    `Measured ${date.toISOString().slice(0, 10)} on ${machineLine(machine)}; @tandem/server ${versionOf("@tandem/server")}.`,
    `\`pnpm bench net --soak ${minutes}m\`: scenario 6's load (${MIXED.clients.toLocaleString("en-US")} clients in rooms of ${MIXED.perRoom}, presence at ${MIXED.presenceHz} Hz, an edit every ${1 / MIXED.editHz} s) against the Tandem relay alone for ${format(minutes)} min; the relay's RSS, JS heap, memory outside the heap (Loro's WebAssembly memory and buffers, \`process.memoryUsage().external\`) and active handles (\`process._getActiveHandles()\`) every 30 s. ${growth}.`,
    "",
    `Over the whole run: server CPU ${format(values.cpu)} µs per delivered update, latency p50 ${format(values.p50)} ms, p99 ${format(values.p99)} ms, ${format(values.rate)} deliveries/s, ${format(values.delivered)}% of expected deliveries.`,
    "",
    "| Elapsed (s) | RSS (MiB) | JS heap (MiB) | External (MiB) | Handles |",
    "| ---: | ---: | ---: | ---: | ---: |",
    ...samples.map(
      (s) =>
        `| ${s.elapsedS} | ${format(s.rssMiB)} | ${format(s.heapMiB)} | ${format(s.externalMiB)} | ${s.handles} |`,
    ),
    sectionEnd("net-soak"),
  ].join("\n")
}

import { join } from "node:path"
import { collectGarbage } from "../gc.js"
import { type ChildScripts, compileChildren } from "./build.js"
import { Session } from "./harness.js"
import { newestProfile, printProfile, summarizeProfile } from "./profile.js"
import type { RunMode, Scenario, Values } from "./scenarios.js"
import type { NetSystem } from "./systems.js"

/** One system's rounds of one scenario, or why there are none. */
export interface SystemResult {
  system: string
  rounds: Values[]
  error?: string
  /** The system cannot do the scenario (why): it was not run. */
  cannot?: string
}

export interface ScenarioResult {
  scenario: Scenario
  results: SystemResult[]
}

type Log = (line: string) => void

/**
 * Runs each scenario round by round, every system in turn within a round (the first system
 * rotating from round to round), so drift in the machine's speed hits all alike. A system that
 * fails is dropped from the scenario's later rounds, with the reason kept.
 */
export async function runMatrix(
  scenarios: readonly Scenario[],
  systems: readonly NetSystem[],
  mode: RunMode,
  log: Log,
  options: { scripts?: ChildScripts; profileDir?: string } = {},
): Promise<ScenarioResult[]> {
  const children = options.scripts ?? (await compileChildren())
  const out: ScenarioResult[] = []
  for (const scenario of scenarios) {
    const results = systems.map((system): SystemResult => {
      const cannot = scenario.cannot?.[system.key]
      return { system: system.name, rounds: [], ...(cannot !== undefined && { cannot }) }
    })
    const rounds = scenario.rounds(mode)
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < systems.length; k++) {
        const i = (r + k) % systems.length
        const system = systems[i] as NetSystem
        const result = results[i] as SystemResult
        if (result.error !== undefined || result.cannot !== undefined) continue
        await collectGarbage()
        const who = `${scenario.title.padEnd(20)} ${`${r + 1}/${rounds}`.padStart(5)}  ${system.name.padEnd(14)}`
        const started = performance.now()
        let session: Session | null = null
        try {
          const profileDir = options.profileDir
            ? join(options.profileDir, `${scenario.key}-${system.key}-${r + 1}`)
            : undefined
          // BENCH_PROFILE_LOADGENS=1 profiles the load generators too (their clients' own costs).
          const profileLoadgens = process.env.BENCH_PROFILE_LOADGENS === "1"
          session = await Session.open(system, children, profileDir ? { profileDir, profileLoadgens } : {})
          const values = await scenario.run(session, mode)
          result.rounds.push(values)
          log(
            `${who} ${summaryOf(scenario, values)}  (${((performance.now() - started) / 1000).toFixed(1)} s)`,
          )
        } catch (error) {
          result.error = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "failed"
          log(`${who} failed: ${result.error}`)
        } finally {
          await session?.close()
        }
        if (options.profileDir && session) {
          const file = newestProfile(join(options.profileDir, `${scenario.key}-${system.key}-${r + 1}`))
          if (file) printProfile(summarizeProfile(file), log)
        }
      }
    }
    out.push({ scenario, results })
  }
  return out
}

function summaryOf(scenario: Scenario, values: Values): string {
  return scenario.metrics
    .filter((metric) => !metric.context)
    .map(
      (metric) =>
        `${metric.key} ${format(values[metric.key])}${metric.unit === "/s" ? "/s" : ` ${metric.unit}`}`,
    )
    .join(", ")
}

export function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "—"
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US")
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

import type { SuiteOptions } from "../main.js"
import { LOADGENS } from "../net/harness.js"
import { runMatrix } from "../net/matrix.js"
import { markdownSection, printTable } from "../net/report.js"
import { SCENARIOS } from "../net/scenarios.js"
import { parseDuration, runSoak, soakSection } from "../net/soak.js"
import { SYSTEMS } from "../net/systems.js"
import { writeSection } from "../sections.js"

/**
 * Tandem's relay beside Hocuspocus, y-websocket and automerge-repo over real WebSockets: each
 * server in a process of its own, clients in load-generator processes. Options:
 *   --soak 30m          scenario 6 against Tandem alone for that long (RSS and handles every 30 s)
 *   --scenarios=a,b     only these scenarios (presence, edits, idle, storm, connect, mixed)
 *   --systems=a,b       only these systems (tandem, hocuspocus, y-websocket, automerge)
 *   --profile=DIR       run the servers under --cpu-prof into DIR and print where their time went
 *                       (BENCHMARKS.md is left alone)
 */
export async function runNetSuite({ quick, log, machine, target }: SuiteOptions): Promise<void> {
  const args = process.argv.slice(2)
  const option = (name: string) => args.find((arg) => arg.startsWith(`--${name}=`))?.split("=")[1]
  const soakAt = args.indexOf("--soak")
  const soak = soakAt >= 0 ? args[soakAt + 1] : option("soak")
  const started = performance.now()

  if (soak !== undefined) {
    const durationMs = parseDuration(soak)
    log(`soak: scenario 6 against Tandem for ${soak}, sampled every 30 s`)
    const result = await runSoak(durationMs, log)
    writeSection(target, "net-soak", soakSection(result, machine, new Date()))
    log(`\nwrote the soak to ${target} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
    return
  }

  const onlyScenarios = option("scenarios")?.split(",")
  const onlySystems = option("systems")?.split(",")
  const profileDir = option("profile")
  const scenarios = SCENARIOS.filter((s) => !onlyScenarios || onlyScenarios.includes(s.key))
  const systems = SYSTEMS.filter((s) => !onlySystems || onlySystems.includes(s.key))
  log(
    `${systems.map((s) => s.name).join(", ")}; ${LOADGENS} load generators; scenarios: ${scenarios.map((s) => s.key).join(", ")}`,
  )
  const results = await runMatrix(scenarios, systems, quick, log, profileDir ? { profileDir } : {})
  const seconds = (performance.now() - started) / 1000
  log("")
  printTable(results, log)
  // Only a run of the whole matrix (every system, every scenario, no profiler) rewrites the section.
  if (!onlyScenarios && !onlySystems && !profileDir) {
    writeSection(
      target,
      "net",
      markdownSection(results, { machine, quick, date: new Date(), seconds, loadgens: LOADGENS }),
    )
    log(`\nwrote ${target} in ${seconds.toFixed(0)} s`)
  } else log(`\nfinished in ${seconds.toFixed(0)} s (a partial run: ${target} left alone)`)
}

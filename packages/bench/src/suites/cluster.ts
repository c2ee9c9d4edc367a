import { execFileSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { type ClusterResults, clusterSection, printClusterTable } from "../cluster/report.js"
import { CLUSTER, runRound, SINGLE, type Topology } from "../cluster/round.js"
import { collectGarbage } from "../gc.js"
import type { SuiteOptions } from "../main.js"
import { compileChildren } from "../net/build.js"
import { LOADGENS } from "../net/harness.js"
import { format } from "../net/matrix.js"
import { printProfile, summarizeProfile } from "../net/profile.js"
import { writeSection } from "../sections.js"

/**
 * Issue 7's benchmark: 500 clients over three relay instances on one Redis, beside the same
 * clients on one instance. It rewrites its section of BENCHMARKS.md; notes on what a profile
 * showed live after the section's end marker, written by hand, and are kept. Options:
 *   --rounds=N      rounds of each topology (default 2, --quick 1)
 *   --clients=N     this many clients instead of 500 (BENCHMARKS.md is left alone)
 *   --profile=DIR   run the relays under --cpu-prof into DIR and print where their time went
 *                   (BENCHMARKS.md is left alone)
 */
export async function runClusterSuite({ quick, log, machine, target }: SuiteOptions): Promise<void> {
  const args = process.argv.slice(2)
  const option = (name: string) => args.find((arg) => arg.startsWith(`--${name}=`))?.split("=")[1]
  const rounds = Number(option("rounds") ?? (quick ? 1 : 2))
  const profileDir = option("profile")
  const clients = option("clients")
  const durationMs = quick ? 8_000 : 15_000
  const started = performance.now()
  const scripts = await compileChildren()
  const results: ClusterResults = { rounds: { cluster: [], single: [] }, errors: {} }
  log(`${CLUSTER.name} beside ${SINGLE.name}: ${rounds} rounds each, ${durationMs / 1000} s windows`)

  for (let r = 0; r < rounds; r++) {
    // The first topology alternates from round to round, so drift hits both alike.
    const order: Topology[] = r % 2 === 0 ? [CLUSTER, SINGLE] : [SINGLE, CLUSTER]
    for (const topology of order) {
      if (results.errors[topology.key] !== undefined) continue
      await collectGarbage()
      const who = `${`${r + 1}/${rounds}`.padStart(5)}  ${topology.name.padEnd(20)}`
      const roundStarted = performance.now()
      const dir = profileDir ? join(profileDir, `${topology.key}-${r + 1}`) : undefined
      try {
        const values = await runRound(topology, scripts, {
          durationMs,
          ...(dir && { profileDir: dir }),
          ...(clients && { clients: Number(clients) }),
        })
        results.rounds[topology.key].push(values)
        const cross = topology.redis
          ? `cross-instance p50 ${format(values.crossP50)} ms, p99 ${format(values.crossP99)} ms, `
          : ""
        log(
          `${who} ${cross}p99 ${format(values.p99)} ms, ${format(values.rate)}/s, relay CPU ${format(values.cpu)} µs/delivery  (${((performance.now() - roundStarted) / 1000).toFixed(1)} s)`,
        )
      } catch (error) {
        const message = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "failed"
        results.errors[topology.key] = message
        log(`${who} failed: ${message}`)
      }
      if (dir) printProfiles(dir, log)
    }
  }

  const seconds = (performance.now() - started) / 1000
  log("")
  printClusterTable(results, log)
  if (profileDir || clients) {
    log(`\nfinished in ${seconds.toFixed(0)} s (a partial run: ${target} left alone)`)
    return
  }
  const section = clusterSection(results, {
    machine,
    date: new Date(),
    quick,
    seconds,
    durationMs,
    loadgens: LOADGENS,
    redisVersion: redisVersion(),
  })
  writeSection(target, "cluster", section)
  log(`\nwrote ${target} in ${seconds.toFixed(0)} s`)
}

function printProfiles(dir: string, log: (line: string) => void): void {
  let files: string[] = []
  try {
    files = readdirSync(dir).filter((file) => file.endsWith(".cpuprofile"))
  } catch {
    return
  }
  for (const file of files) {
    log(`-- ${file}`)
    printProfile(summarizeProfile(join(dir, file)), log)
  }
}

function redisVersion(): string {
  try {
    const banner = execFileSync("redis-server", ["--version"], { encoding: "utf8" })
    return `Redis ${/v=([\d.]+)/.exec(banner)?.[1] ?? "unknown"}`
  } catch {
    return "Redis unknown"
  }
}

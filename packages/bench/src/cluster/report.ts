import { readFileSync, realpathSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Machine, machineLine } from "../machine.js"
import { format } from "../net/matrix.js"
import type { Values } from "../net/scenarios.js"
import { versionOf } from "../net/systems.js"
import { sectionEnd, sectionStart } from "../sections.js"
import { type Summary, summarize } from "../stats.js"
import { CLUSTER, COMMAND_PREFIX, SINGLE, type Topology, WORKLOAD } from "./round.js"

export interface ClusterMetric {
  key: string
  label: string
  unit: string
  /** The cluster's median must be at most this. */
  atMost?: number
}

export const METRICS: ClusterMetric[] = [
  { key: "crossP50", label: "cross-instance latency p50 (presence and edits)", unit: "ms" },
  { key: "crossP99", label: "cross-instance latency p99 (presence and edits)", unit: "ms", atMost: 20 },
  { key: "crossPresenceP99", label: "cross-instance presence latency p99", unit: "ms" },
  { key: "crossEditP99", label: "cross-instance edit latency p99", unit: "ms" },
  { key: "p50", label: "latency p50, every delivery", unit: "ms" },
  { key: "p99", label: "latency p99, every delivery", unit: "ms" },
  { key: "rate", label: "deliveries per second", unit: "/s" },
  { key: "cpu", label: "relay CPU per delivery (all instances)", unit: "µs" },
  { key: "redisCpu", label: "Redis CPU per delivery", unit: "µs" },
  { key: "redisPerUpdate", label: "Redis commands per update sent", unit: "" },
  { key: "redisPerDelivery", label: "Redis commands per delivery", unit: "" },
  { key: "serverCpuPct", label: "relay CPU, % of one core (all instances)", unit: "%" },
  { key: "redisCpuPct", label: "Redis CPU, % of one core", unit: "%" },
  { key: "serverEld", label: "relay event-loop delay p99 (worst instance)", unit: "ms" },
  { key: "loadgenCpu", label: "load generators' CPU, % of one core", unit: "%" },
  { key: "loadgenEld", label: "load generators' event-loop delay p99 (worst)", unit: "ms" },
  { key: "delivered", label: "delivered, % of expected", unit: "%" },
  { key: "crossShare", label: "cross-instance deliveries, % of all", unit: "%" },
  { key: "clientErrors", label: "errors thrown by the client library", unit: "" },
]

export interface ClusterResults {
  rounds: Record<Topology["key"], Values[]>
  /** Why a topology has no (more) rounds. */
  errors: Partial<Record<Topology["key"], string>>
}

function summaryOf(rounds: readonly Values[], key: string): Summary | null {
  const values = rounds
    .map((round) => round[key])
    .filter((v): v is number => v !== undefined && !Number.isNaN(v))
  return values.length > 0 ? summarize(values) : null
}

function show(summary: Summary | null): string {
  if (!summary) return "—"
  const { median, min, max, rounds } = summary
  return rounds === 1 ? format(median) : `${format(median)} (${format(min)}–${format(max)})`
}

function labelOf(metric: ClusterMetric): string {
  return metric.unit ? `${metric.label} (${metric.unit})` : metric.label
}

export interface ClusterRow {
  metric: ClusterMetric
  cluster: Summary | null
  single: Summary | null
  verdict: string
}

export function buildClusterRows(results: ClusterResults): ClusterRow[] {
  return METRICS.map((metric) => {
    const cluster = summaryOf(results.rounds.cluster, metric.key)
    const single = summaryOf(results.rounds.single, metric.key)
    const verdict =
      metric.atMost === undefined
        ? ""
        : `≤ ${metric.atMost} ${metric.unit}: ${cluster === null ? "not measured" : cluster.median <= metric.atMost ? "met" : "missed"}`
    return { metric, cluster, single, verdict }
  }).filter((row) => row.cluster !== null || row.single !== null)
}

function ratio(row: ClusterRow): string {
  if (!row.cluster || !row.single || row.single.median === 0) return ""
  return `${(row.cluster.median / row.single.median).toFixed(2)}×`
}

function cells(row: ClusterRow): string[] {
  return [labelOf(row.metric), show(row.cluster), show(row.single), ratio(row), row.verdict]
}

const HEADER = ["Metric", CLUSTER.name, SINGLE.name, "cluster / single", "Target"]

export function printClusterTable(results: ClusterResults, log: (line: string) => void): void {
  const lines = buildClusterRows(results).map(cells)
  const widths = HEADER.map((h, i) => Math.max(h.length, ...lines.map((line) => (line[i] ?? "").length)))
  const fmt = (row: readonly string[]) => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")
  log(fmt(HEADER))
  log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const line of lines) log(fmt(line))
  log(`Redis commands per update sent, by command: ${commandMix(results.rounds.cluster)}`)
}

/** The median calls per update sent of each command, the most frequent first. */
function commandMix(rounds: readonly Values[]): string {
  const names = new Set(
    rounds.flatMap((round) => Object.keys(round).filter((key) => key.startsWith(COMMAND_PREFIX))),
  )
  const mix = [...names]
    .map((key) => ({
      name: key.slice(COMMAND_PREFIX.length),
      perUpdate: summaryOf(rounds, key)?.median ?? 0,
    }))
    .filter(({ perUpdate }) => perUpdate >= 0.001)
    .sort((a, b) => b.perUpdate - a.perUpdate)
  return mix.length > 0
    ? mix.map(({ name, perUpdate }) => `\`${name}\` ${perUpdate.toFixed(3)}`).join(", ")
    : "—"
}

/** A dependency of the Redis adapter, a workspace package with its own node_modules. */
function adapterDependencyVersion(name: string): string {
  try {
    const bench = join(dirname(fileURLToPath(import.meta.url)), "../..")
    const adapter = realpathSync(join(bench, "node_modules/@tandem/adapter-redis"))
    const pkg = JSON.parse(readFileSync(join(adapter, "node_modules", name, "package.json"), "utf8"))
    return (pkg as { version?: string }).version ?? "unknown"
  } catch {
    return "unknown"
  }
}

export interface ClusterReportContext {
  machine: Machine
  date: Date
  quick: boolean
  seconds: number
  durationMs: number
  loadgens: number
  /** `Redis 7.0.15`, say. */
  redisVersion: string
}

export function clusterSection(results: ClusterResults, context: ClusterReportContext): string {
  const { clients, perRoom, presenceHz, editHz, chars } = WORKLOAD
  const rows = buildClusterRows(results)
  const errors = Object.entries(results.errors).map(
    ([key, error]) => `* ${key === "cluster" ? CLUSTER.name : SINGLE.name}: failed: ${error}`,
  )
  const versions = ["@tandem/server", "@tandem/adapter-redis", "@tandem/adapter-websocket", "ioredis"]
    .map((name) => `${name} ${name === "ioredis" ? adapterDependencyVersion(name) : versionOf(name)}`)
    .join(" · ")
  return [
    sectionStart("cluster"),
    "## Cluster: three relay instances on one Redis",
    "",
    `Measured ${context.date.toISOString().slice(0, 10)}${context.quick ? " with `--quick`" : ""} on ${machineLine(context.machine)}.`,
    `Versions: ${versions} · ${context.redisVersion}.`,
    `Rounds (${CLUSTER.name} / ${SINGLE.name}): ${results.rounds.cluster.length}/${results.rounds.single.length}, ${context.durationMs / 1000} s windows; the run took ${Math.round(context.seconds)} s. \`pnpm bench cluster\` regenerates this section.`,
    "",
    `${clients} clients in ${clients / perRoom} rooms of ${perRoom}; every client has presence at ${presenceHz} Hz and appends to its room's document (${chars} characters to start) at ${editHz} Hz. With Redis, client *n* (from 1) connects to instance (*n* − 1) mod 3, so each room has members on all three instances (4, 3 and 3) and 73% of deliveries cross instances.`,
    "",
    `| ${HEADER.join(" | ")} |`,
    "| --- | ---: | ---: | ---: | --- |",
    ...rows.map((row) => `| ${cells(row).join(" | ")} |`),
    "",
    `Redis commands per update sent, by command (median of the rounds): ${commandMix(results.rounds.cluster)}.`,
    ...(errors.length > 0 ? ["", ...errors] : []),
    "",
    "How it is measured:",
    "",
    "- Each relay instance is its own child process running `createServer({ storage: MemoryStorage,",
    "  redis: { url, service, instanceId } })` (what `tandem serve --memory --redis URL` runs), with",
    "  the net suite's raised limits for trusted clients. The bench starts a real `redis-server`",
    "  (`startRedisServer` from `@tandem/adapter-redis/testing`: no persistence, loopback) for each",
    "  cluster round, and waits until every instance sees the other two before clients connect.",
    "  Each room's document is put in every instance's store before clients come (the same",
    "  history on each), as in a service that has run a while: every instance stores every",
    "  update it reads from the stream, so the window measures relaying, not first fetches.",
    `- Clients are Tandem \`Repo\`s with the WebSocket client adapter, in ${context.loadgens} load-generator`,
    "  processes (never in a relay's); client *n* is on generator *n* mod 2, so a room spans both.",
    "  The single-instance rounds run the same clients against one relay with no Redis.",
    "- Latency uses one clock for all processes (CLOCK_MONOTONIC): the sender stamps the time into",
    "  its presence value or its inserted text, each receiver records arrival minus stamp, once per",
    "  receiver, for updates sent inside the window. *Cross-instance* counts only deliveries whose",
    "  sender is connected to another instance than the receiver: that path is client → relay A →",
    "  Redis (pub/sub for presence, the stream for edits) → relay B → client.",
    "- Relay CPU is each instance's own `process.cpuUsage()` over the window, summed over instances.",
    "  Redis figures are read from `INFO` (`total_commands_processed`, `commandstats`,",
    "  `used_cpu_user` + `used_cpu_sys`) when the window opens and when it closes: they include",
    "  the instances' blocking `XREAD`s, heartbeats and liveness checks, not only the relaying.",
    "- Presence goes through Tandem's default 50 ms presence throttle; nothing else is tuned.",
    "- All processes (three relays, Redis, two load generators) share the machine's cores, so the",
    "  cluster rounds do the same work as the single-instance ones with more processes competing",
    "  for the same CPUs: on one machine the cluster measures the relay's overhead, not its scale.",
    "- Topologies alternate round by round (fresh processes and a fresh Redis each round); every",
    "  cell is the median of its rounds with the range in parentheses.",
    sectionEnd("cluster"),
  ].join("\n")
}

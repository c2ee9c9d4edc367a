import { type Machine, machineLine } from "../machine.js"
import { sectionEnd, sectionStart } from "../sections.js"
import { type Summary, summarize } from "../stats.js"
import { format, type ScenarioResult, type SystemResult } from "./matrix.js"
import type { Metric, RunMode, Scenario } from "./scenarios.js"
import { TANDEM, versionLine } from "./systems.js"

type Cell = { summary: Summary } | { missing: "failed" | "cannot" | "not run" }

interface Row {
  scenario: Scenario
  metric: Metric
  cells: Cell[]
  /** Tandem / best peer, from medians; null when there is nothing to compare. */
  ratio: number | null
  best: string | null
  verdicts: Verdict[]
}

interface Verdict {
  text: string
  met: boolean
}

export function buildRows(results: readonly ScenarioResult[]): Row[] {
  const rows: Row[] = []
  for (const { scenario, results: systems } of results) {
    for (const metric of scenario.metrics) {
      const cells = systems.map((result) => cellOf(result, metric.key))
      const [subject, ...peers] = cells
      let ratio: number | null = null
      let best: string | null = null
      if (!metric.context && subject && "summary" in subject) {
        let bestValue: number | null = null
        peers.forEach((cell, i) => {
          if (!("summary" in cell)) return
          const value = cell.summary.median
          if (bestValue === null || (metric.higherIsBetter ? value > bestValue : value < bestValue)) {
            bestValue = value
            best = systems[i + 1]?.system ?? null
          }
        })
        if (bestValue !== null) ratio = subject.summary.median / bestValue
      }
      const verdicts: Verdict[] = []
      const op = metric.higherIsBetter ? "≥" : "≤"
      const passes = (value: number, limit: number) =>
        metric.higherIsBetter ? value >= limit : value <= limit
      if (metric.ratioTarget !== undefined && ratio !== null) {
        verdicts.push({ text: `ratio ${op} ${metric.ratioTarget}×`, met: passes(ratio, metric.ratioTarget) })
      }
      if (metric.absoluteTarget !== undefined && subject && "summary" in subject) {
        const unit = metric.unit === "/s" ? "/s" : ` ${metric.unit}`
        verdicts.push({
          text: `${op} ${format(metric.absoluteTarget)}${unit}`,
          met: passes(subject.summary.median, metric.absoluteTarget),
        })
      }
      rows.push({ scenario, metric, cells, ratio, best, verdicts })
    }
  }
  return rows
}

function cellOf(result: SystemResult, key: string): Cell {
  if (result.cannot !== undefined) return { missing: "cannot" }
  const values = result.rounds.map((round) => round[key]).filter((v): v is number => v !== undefined)
  if (values.length === 0) return { missing: result.error !== undefined ? "failed" : "not run" }
  return { summary: summarize(values) }
}

function show(cell: Cell): string {
  if ("missing" in cell) return cell.missing
  const { median, min, max, rounds } = cell.summary
  return rounds === 1 ? format(median) : `${format(median)} (${format(min)}–${format(max)})`
}

function ratioText(row: Row): string {
  if (row.ratio === null) return row.metric.context ? "" : "—"
  return `${row.ratio >= 10 ? row.ratio.toFixed(0) : row.ratio.toFixed(2)}× ${row.best ?? ""}`.trim()
}

function targetText(row: Row): string {
  return row.verdicts.map((v) => `${v.text}: ${v.met ? "met" : "missed"}`).join("; ")
}

function label(row: Row): string {
  return `${row.metric.label}${row.metric.unit && row.metric.unit !== "/s" ? ` (${row.metric.unit})` : row.metric.unit === "/s" ? " (/s)" : ""}`
}

/** The plain-text table for the terminal. */
export function printTable(results: readonly ScenarioResult[], log: (line: string) => void): void {
  const rows = buildRows(results)
  const systems = results[0]?.results.map((r) => r.system) ?? []
  const header = ["Scenario", "Metric", ...systems, `${TANDEM.name} / best peer`, "Target"]
  const lines = rows.map((row) => [
    row.scenario.title,
    label(row),
    ...row.cells.map(show),
    ratioText(row),
    targetText(row),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => (line[i] ?? "").length)))
  const fmt = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")
  log(fmt(header))
  log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const line of lines) log(fmt(line))
  for (const note of notes(results)) log(`* ${note}`)
}

function notes(results: readonly ScenarioResult[]): string[] {
  const out: string[] = []
  for (const { scenario, results: systems } of results) {
    for (const r of systems) {
      if (r.cannot !== undefined) out.push(`${scenario.title}, ${r.system}: cannot: ${r.cannot}.`)
      else if (r.error !== undefined) out.push(`${scenario.title}, ${r.system}: failed: ${r.error}`)
    }
  }
  return out
}

export interface NetReportContext {
  machine: Machine
  mode: RunMode
  date: Date
  /** The machine's 1-minute load average when the run started and when it ended. */
  load: { start: number; end: number }
  /** How long the whole matrix took, s. */
  seconds: number
  loadgens: number
}

export function markdownSection(results: readonly ScenarioResult[], context: NetReportContext): string {
  const rows = buildRows(results)
  const systems = results[0]?.results.map((r) => r.system) ?? []
  const table = [
    `| Scenario | Metric | ${systems.join(" | ")} | ${TANDEM.name} / best peer | Target |`,
    `| --- | --- | ${systems.map(() => "---:").join(" | ")} | ---: | --- |`,
    ...rows.map(
      (row) =>
        `| ${row.scenario.title} | ${label(row)} | ${row.cells.map(show).join(" | ")} | ${ratioText(row)} | ${targetText(row)} |`,
    ),
  ]
  const rounds = results
    .map(
      ({ scenario, results: r }) =>
        `${scenario.title.replace(/^\d+\. /, "")}: ${r.map((x) => x.rounds.length).join("/")}`,
    )
    .join("; ")
  const missed = rows.flatMap((row) =>
    row.verdicts.filter((v) => !v.met).map((v) => `${row.scenario.title}, ${row.metric.label}: ${v.text}`),
  )
  const met = rows.flatMap((row) =>
    row.verdicts.filter((v) => v.met).map((v) => `${row.scenario.title}, ${row.metric.label}: ${v.text}`),
  )
  return [
    sectionStart("net"),
    "## Network: relay beside Hocuspocus, y-websocket and automerge-repo",
    "",
    `Measured ${context.date.toISOString().slice(0, 10)}${context.mode === "default" ? "" : ` with \`--${context.mode}\``} on ${machineLine(context.machine)}.`,
    `Versions: ${versionLine()}.`,
    `Rounds per system (${systems.join("/")}): ${rounds}. The whole matrix took ${Math.round(context.seconds / 60)} min.`,
    `The machine's load average was ${context.load.start.toFixed(1)} when the run started and ${context.load.end.toFixed(1)} when it ended (2 cores; other work may share them).`,
    "",
    ...table,
    "",
    ...notes(results).map((note) => `* ${note}`),
    "",
    `Targets met: ${met.length}; missed: ${missed.length}${missed.length > 0 ? ` (${missed.join("; ")})` : ""}.`,
    "",
    "The scenarios (each system does the same work):",
    "",
    ...results.map(({ scenario }) => `- **${scenario.title}**: ${scenario.describe(context.mode)}.`),
    "",
    "How it is measured:",
    "",
    "- Each server runs alone in a child process on a free loopback port, with an in-memory store:",
    "  Tandem's `createServer` with `MemoryStorage` (what `tandem serve --memory` runs) and its",
    "  limits raised for trusted clients (message rate, connections per address, room size);",
    "  Hocuspocus's `Server` with `onLoadDocument`/`onStoreDocument` over a `Map`; y-websocket's",
    "  `setupWSConnection` with an in-memory persistence in place of y-leveldb; automerge-repo's",
    "  `Repo` with its WebSocket server adapter, `sharePolicy: async () => false` as",
    "  automerge-repo-sync-server configures it, over an in-memory storage adapter.",
    "  Nothing else is tuned: each system's defaults otherwise (Tandem's 50 ms presence",
    "  throttle, Hocuspocus's 2 s store debounce, automerge-repo's 100 ms sync throttle).",
    "- The server reports, over IPC, its own CPU time (`process.cpuUsage()`, user + system), RSS,",
    "  peak RSS (the kernel's VmHWM, reset at the start of a measurement), JS heap and event-loop",
    "  delay (`monitorEventLoopDelay`).",
    `- Clients are each system's own client library, one per simulated user (Tandem: a \`Repo\` with the`,
    "  WebSocket client adapter, rooms with presence; Hocuspocus: a `HocuspocusProvider` with its",
    "  awareness; y-websocket: a `WebsocketProvider` with its awareness, BroadcastChannel off;",
    "  automerge-repo: a `Repo` with the WebSocket client adapter and its `Presence` API on the",
    `  room's document). They run in ${context.loadgens} load-generator processes, never in the server's;`,
    "  a room's clients are spread over both. Yjs and Automerge presence rides on a document, so",
    "  their clients open the room's document even for presence alone.",
    "- Latency uses one clock for all processes (CLOCK_MONOTONIC, `process.hrtime`): the sender",
    "  stamps the time into the presence value or into the inserted text; each receiver records",
    "  arrival minus stamp. Only updates sent inside the measured window count, each once per",
    "  receiver; every delivery is recorded (a log-linear histogram, under 1.6% error).",
    "  Clients send from a random phase, a warm-up precedes the window, and deliveries are waited",
    "  for after it. Server CPU per delivered update = the server's CPU time over the window /",
    "  deliveries of updates sent in it.",
    "- Context rows (no ratio) say how complete delivery was and how loaded the machine was: the",
    "  load generators share the 2 cores with the server, so a client library that needs more",
    "  CPU leaves less for everything else, and latency includes the receiving client's own work.",
    "- Systems alternate within each round (the first one rotating); each round starts fresh",
    "  processes. Every cell is the median of its rounds with the range in parentheses; the ratio",
    "  is Tandem's median over the best peer's median (for CPU, memory and times lower is better,",
    "  for rates higher is better).",
    "- `pnpm bench net --soak 30m` runs scenario 6 against Tandem alone for that long and records",
    "  the relay's RSS and handles every 30 s (section below, when run).",
    sectionEnd("net"),
  ].join("\n")
}

import { type CoreResults, FLOOR, type Samples } from "./core.js"
import { type Machine, machineLine } from "./machine.js"
import { sectionEnd, sectionStart } from "./sections.js"
import { type Summary, summarize } from "./stats.js"

const START = sectionStart("core")
const END = sectionEnd("core")

interface Row {
  scenario: string
  unit: string
  /** Higher is better (a rate) rather than lower (a time). */
  higherIsBetter: boolean
  cells: Cell[]
}

type Cell = { summary: Summary } | { missing: string }

export interface ReportContext {
  machine: Machine
  quick: boolean
  full: boolean
  date: Date
}

/** Subject first (Tandem), then the system it is compared with. */
export function buildRows(results: CoreResults, systems: readonly string[]): Row[] {
  const rows: Row[] = [
    {
      scenario: `Sync a ${count(results.fixture.operations)}-operation document to a fresh peer`,
      unit: "ms",
      higherIsBetter: false,
      cells: systems.map((name) => cell(results.sync, name, (ms) => ms)),
    },
  ]
  for (const size of results.fanout) {
    const delivered = size.updates * size.observers
    const what = `Fan-out: ${count(size.updates)} updates, 1 writer → hub → ${size.observers} observers`
    rows.push({
      scenario: `${what}, delivered`,
      unit: "updates/s",
      higherIsBetter: true,
      cells: systems.map((name) => cell(size.results, name, (ms) => delivered / (ms / 1000))),
    })
    rows.push({
      scenario: `${what}, total time`,
      unit: "ms",
      higherIsBetter: false,
      cells: systems.map((name) => cell(size.results, name, (ms) => ms)),
    })
  }
  return rows
}

function cell(results: readonly Samples[], name: string, map: (ms: number) => number): Cell {
  const result = results.find((r) => r.system === name)
  if (!result) return { missing: "not run" }
  if (result.error !== undefined) return { missing: `failed: ${result.error}` }
  if (result.skipped !== undefined) return { missing: `not run: ${result.skipped}` }
  return { summary: summarize(result.samples.map(map)) }
}

/** How the subject (first cell) compares with the second, from medians. */
function ratio(row: Row): string {
  const [subject, other] = row.cells
  if (!subject || !other || !("summary" in subject) || !("summary" in other)) return "—"
  const a = subject.summary.median
  const b = other.summary.median
  const better = row.higherIsBetter ? a / b : b / a
  return better >= 1 ? `${better.toFixed(1)}× faster` : `${(1 / better).toFixed(1)}× slower`
}

// The two systems, how they compare, then the rest (the bare-Loro floor).
function columns(systems: readonly string[]): string[] {
  const [subject = "", other = "", ...rest] = systems
  return [subject, other, `${subject} vs ${other}`, ...rest]
}

function values(row: Row): string[] {
  const [subject, other, ...rest] = row.cells.map(show)
  return [subject ?? "", other ?? "", ratio(row), ...rest]
}

function show(cell: Cell): string {
  if ("missing" in cell) return cell.missing.startsWith("not run") ? "not run" : "failed"
  const { median, min, max } = cell.summary
  return `${number(median)} (${number(min)}–${number(max)})`
}

function number(value: number): string {
  if (value >= 1000) return Math.round(value).toLocaleString("en-US")
  if (value >= 100) return value.toFixed(0)
  return value.toFixed(1)
}

function count(value: number): string {
  return value.toLocaleString("en-US")
}

/** The plain-text table for the terminal. */
export function printTable(
  rows: readonly Row[],
  systems: readonly string[],
  log: (line: string) => void,
): void {
  const header = ["Scenario", "Unit", ...columns(systems)]
  const lines = rows.map((row) => [row.scenario, row.unit, ...values(row)])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => (line[i] ?? "").length)))
  const format = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")
  log(format(header))
  log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const line of lines) log(format(line))
  for (const note of notes(rows)) log(note)
}

function notes(rows: readonly Row[]): string[] {
  const seen = new Set<string>()
  for (const row of rows) {
    for (const c of row.cells) if ("missing" in c) seen.add(c.missing)
  }
  return [...seen].map((text) => `* ${text}`)
}

export function markdownSection(
  rows: readonly Row[],
  systems: readonly string[],
  results: CoreResults,
  context: ReportContext,
): string {
  const table = [
    `| Scenario | ${columns(systems).join(" | ")} |`,
    `| --- | ${columns(systems)
      .map(() => "---:")
      .join(" | ")} |`,
    ...rows.map((row) => `| ${row.scenario} (${row.unit}) | ${values(row).join(" | ")} |`),
  ]
  const rounds = [
    `sync: ${roundsOf(results.sync)}`,
    ...results.fanout.map((size) => `fan-out ${count(size.updates)}: ${roundsOf(size.results)}`),
  ].join("; ")
  return [
    START,
    "## Document core",
    "",
    `Measured ${context.date.toISOString().slice(0, 10)}${context.quick ? " with `--quick`" : ""}${context.full ? " with `--full`" : ""} on ${machineLine(context.machine)}.`,
    `Rounds per system (after one untimed warm-up round where the size allows): ${rounds}.`,
    "",
    ...table,
    "",
    ...notes(rows),
    ...(notes(rows).length > 0 ? [""] : []),
    "How it is measured:",
    "",
    `- **Sync**: a LoroDoc built from ${count(results.fixture.operations)} single-character inserts at random places,`,
    `  committed every 100 (a ${number(results.fixture.bytes / 1024)} KiB snapshot), is held by one repo (Tandem loads it`,
    "  from `MemoryStorage`; loro-extended imports it into its handle's doc, which is what it serves).",
    "  The clock runs from creating a fresh repo on the same in-memory bridge until its document has",
    "  every character; then its version and text are checked against the original.",
    "- **Fan-out**: a hub repo with one bridge per spoke (Tandem with `relay: true`; loro-extended",
    "  relays by default), one writer and the observers. After one edit has reached every observer",
    "  (so every subscription exists), the writer makes one-character inserts at random places with a",
    "  commit each, as fast as it can; the clock stops when every observer holds every update, and",
    "  each observer's version and text are checked against the writer's. Delivered updates/s =",
    "  updates × observers / seconds.",
    "- Completion is checked once per turn of the event loop. Systems alternate round by round; garbage is",
    "  collected before each round; every repo is shut down after its round (Tandem: `shutdown()`;",
    "  loro-extended: `reset()`, its heartbeat stopped, and its LoroDocs freed, which `reset()` leaves",
    "  reachable). Defaults otherwise (Tandem's keepalive on, loro-extended's heartbeat on, no log",
    "  sinks configured for either).",
    `- **${FLOOR}** is the floor: the same document work in bare Loro, with no repo and no network.`,
    "  Sync: export a snapshot of the loaded document and import it into a new one. Fan-out: the",
    "  writer's commits, then each update imported on its own by the hub's and every observer's doc,",
    "  as any relay that forwards each update must.",
    END,
  ].join("\n")
}

function roundsOf(results: readonly Samples[]): string {
  return results.map((r) => `${r.system} ${r.samples.length}`).join(", ")
}

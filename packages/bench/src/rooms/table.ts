// How the rooms and storage suites print tables and numbers (the storage suite imports it from here).
import { type Summary, summarize } from "../stats.js"

/** A table of already formatted cells: the first column names the row. */
export interface Table {
  header: string[]
  rows: string[][]
}

/** The plain-text table for the terminal. */
export function printTable(table: Table, log: (line: string) => void): void {
  const { header, rows } = table
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)))
  const format = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  log(format(header))
  log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const row of rows) log(format(row))
}

/** The same table in Markdown, numbers right-aligned. */
export function markdownTable(table: Table): string[] {
  const { header, rows } = table
  return [
    `| ${header.join(" | ")} |`,
    `| --- | ${header
      .slice(1)
      .map(() => "---:")
      .join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ]
}

/** As BENCHMARKS.md shows numbers: thousands separated, fewer decimals as they grow. */
export function number(value: number): string {
  if (!Number.isFinite(value)) return "—"
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US")
  if (Math.abs(value) >= 100) return value.toFixed(0)
  if (Math.abs(value) >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

/** Median with the fastest and slowest round in parentheses, as the core suite shows them. */
export function spread(samples: readonly number[], format: (value: number) => string = number): string {
  if (samples.length === 0) return "—"
  const { median, min, max }: Summary = summarize(samples)
  if (samples.length === 1) return format(median)
  return `${format(median)} (${format(min)}–${format(max)})`
}

/** A share as a percentage; only an exact whole is shown as 100%. */
export function percent(fraction: number): string {
  if (fraction === 1) return "100%"
  return `${Math.min(99.9, fraction * 100).toFixed(1)}%`
}

import { existsSync, readFileSync, writeFileSync } from "node:fs"

const INTRO = `# Benchmarks

Tandem measured beside its peers on the same machine, in the same run, doing the same work.
\`pnpm bench\` builds the workspace and regenerates the sections below (\`pnpm bench --quick\`
runs fewer rounds). Each number is the median of its rounds, with the fastest and slowest round
in parentheses.
`

export function sectionStart(name: string): string {
  return `<!-- ${name}:start -->`
}

export function sectionEnd(name: string): string {
  return `<!-- ${name}:end -->`
}

/**
 * Writes a suite's section into BENCHMARKS.md, replacing its previous one (between its markers),
 * or appending it; creates the file if needed. `section` includes its own markers.
 */
export function writeSection(path: string, name: string, section: string): void {
  if (!existsSync(path)) {
    writeFileSync(path, `${INTRO}\n${section}\n`)
    return
  }
  const text = readFileSync(path, "utf8")
  const start = text.indexOf(sectionStart(name))
  const end = text.indexOf(sectionEnd(name))
  if (start === -1 || end === -1 || end < start) {
    writeFileSync(path, `${text.trimEnd()}\n\n${section}\n`)
    return
  }
  writeFileSync(path, text.slice(0, start) + section + text.slice(end + sectionEnd(name).length))
}

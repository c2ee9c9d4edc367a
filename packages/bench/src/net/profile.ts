import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface ProfileEntry {
  name: string
  where: string
  /** Self time, ms, and share of the sampled time. */
  selfMs: number
  selfPct: number
  /** Time with callees, ms, and share (a function on the stack twice counts once). */
  totalMs: number
  totalPct: number
}

export interface ProfileSummary {
  file: string
  sampledMs: number
  /** Share of the time the process was idle (waiting for I/O), %. */
  idlePct: number
  bySelf: ProfileEntry[]
  byTotal: ProfileEntry[]
  /** Self time by package (node_modules package, a Tandem package, or Node itself), %. */
  byPackage: { name: string; pct: number }[]
}

/** Reads a `--cpu-prof` profile: where the time went, by function (self and total) and by package. */
export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    // timeDeltas[i] is the time before sample i; the time after it is the next delta.
    const delta = profile.timeDeltas[i + 1] ?? 0
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta)
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0)
  const key = (node: ProfileNode) => `${node.callFrame.functionName || "(anonymous)"}\u0000${where(node)}`
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const packages = new Map<string, number>()
  let idle = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (!node) continue
    const name = node.callFrame.functionName
    if (name === "(idle)") {
      idle += us
      continue
    }
    self.set(key(node), (self.get(key(node)) ?? 0) + us)
    const pkg = packageOf(node)
    packages.set(pkg, (packages.get(pkg) ?? 0) + us)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)
      if (!frame) break
      const k = key(frame)
      if (seen.has(k)) continue
      seen.add(k)
      total.set(k, (total.get(k) ?? 0) + us)
    }
  }
  const busy = totalUs - idle
  const entry = (k: string): ProfileEntry => {
    const [name = "", place = ""] = k.split("\u0000")
    const s = self.get(k) ?? 0
    const t = total.get(k) ?? 0
    return {
      name,
      where: place,
      selfMs: s / 1000,
      selfPct: (100 * s) / busy,
      totalMs: t / 1000,
      totalPct: (100 * t) / busy,
    }
  }
  const skip = new Set(["(root)", "(program)", "(garbage collector)"])
  return {
    file,
    sampledMs: totalUs / 1000,
    idlePct: (100 * idle) / totalUs,
    bySelf: [...self.keys()]
      .map(entry)
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
    byTotal: [...total.keys()]
      .filter((k) => !skip.has(k.split("\u0000")[0] ?? ""))
      .map(entry)
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, top),
    byPackage: [...packages.entries()]
      .map(([name, us]) => ({ name, pct: (100 * us) / busy }))
      .sort((a, b) => b.pct - a.pct),
  }
}

function where(node: ProfileNode): string {
  const { url, lineNumber } = node.callFrame
  if (!url) return ""
  const short = url
    .replace(/^file:\/\//, "")
    .replace(/.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
    .replace(/^\/work\/main\//, "")
  return `${short}:${lineNumber + 1}`
}

function packageOf(node: ProfileNode): string {
  const name = node.callFrame.functionName
  if (name === "(garbage collector)" || name === "(program)") return name
  const url = node.callFrame.url
  if (!url) return "(native)"
  const inModules = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (inModules) return inModules[1] as string
  const workspace = /\/work\/main\/(packages|adapters)\/([^/]+)\//.exec(url)
  if (workspace) return `tandem ${workspace[1]}/${workspace[2]}`
  if (url.startsWith("node:")) return "node"
  return "(other)"
}

export function newestProfile(dir: string): string | null {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith(".cpuprofile"))
    .sort()
  const last = files[files.length - 1]
  return last ? join(dir, last) : null
}

export function printProfile(summary: ProfileSummary, log: (line: string) => void, top = 15): void {
  log(
    `  ${summary.file}: ${(summary.sampledMs / 1000).toFixed(1)} s sampled, ${summary.idlePct.toFixed(0)}% idle`,
  )
  log(
    `  by package (self time, % of busy): ${summary.byPackage
      .slice(0, 8)
      .map((p) => `${p.name} ${p.pct.toFixed(1)}%`)
      .join(", ")}`,
  )
  log("  top functions by self time (% of busy time):")
  for (const e of summary.bySelf.slice(0, top))
    log(`    ${e.selfPct.toFixed(1).padStart(5)}%  ${e.name}  ${e.where}`)
  log("  top functions by total time (with callees):")
  for (const e of summary.byTotal.slice(0, top))
    log(`    ${e.totalPct.toFixed(1).padStart(5)}%  ${e.name}  ${e.where}`)
}

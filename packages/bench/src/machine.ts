import { readFileSync } from "node:fs"
import os from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export interface Machine {
  cpu: string
  cores: number
  ramGiB: number
  os: string
  node: string
  loroCrdt: string
  tandem: string
  loroExtended: string
}

export function describeMachine(): Machine {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    loroCrdt: versionOf("loro-crdt"),
    tandem: versionOf("@tandem/repo"),
    loroExtended: versionOf("@loro-extended/repo"),
  }
}

export function machineLine(machine: Machine): string {
  return [
    `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM`,
    machine.os,
    `Node ${machine.node}`,
    `loro-crdt ${machine.loroCrdt}`,
    `@tandem/repo ${machine.tandem}`,
    `@loro-extended/repo ${machine.loroExtended}`,
  ].join(" · ")
}

// Packages need not export package.json: find it by walking up from the entry point.
function versionOf(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string
        version?: string
      }
      if (pkg.name === name && pkg.version) return pkg.version
    } catch {
      // No package.json at this level: keep walking.
    }
    const parent = dirname(dir)
    if (parent === dir) return "unknown"
    dir = parent
  }
}

import { readFileSync, realpathSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export type SystemKey = "tandem" | "hocuspocus" | "y-websocket" | "automerge"

export interface NetSystem {
  key: SystemKey
  name: string
  /** What the clients connect to, given the server's port. */
  url(port: number): string
  /** The packages measured, each with its version (the server's and the client's). */
  packages: string[]
}

export const TANDEM: NetSystem = {
  key: "tandem",
  name: "Tandem",
  url: (port) => `ws://127.0.0.1:${port}`,
  packages: ["@tandem/server", "@tandem/adapter-websocket", "@tandem/repo", "loro-crdt"],
}

export const PEERS: NetSystem[] = [
  {
    key: "hocuspocus",
    name: "Hocuspocus",
    url: (port) => `ws://127.0.0.1:${port}`,
    packages: ["@hocuspocus/server", "@hocuspocus/provider", "yjs"],
  },
  {
    key: "y-websocket",
    name: "y-websocket",
    url: (port) => `ws://127.0.0.1:${port}`,
    packages: ["@y/websocket-server", "y-websocket", "y-protocols", "yjs"],
  },
  {
    key: "automerge",
    name: "automerge-repo",
    url: (port) => `ws://127.0.0.1:${port}`,
    packages: [
      "@automerge/automerge-repo",
      "@automerge/automerge-repo-network-websocket",
      "@automerge/automerge",
    ],
  },
]

export const SYSTEMS: NetSystem[] = [TANDEM, ...PEERS]

const modules = join(dirname(fileURLToPath(import.meta.url)), "../../node_modules")

/** The installed version of a package the bench depends on (or, for `via`, one of its dependencies). */
export function versionOf(name: string, via?: string): string {
  try {
    // pnpm puts a package's dependencies beside it, in the node_modules that holds its real path.
    const base = via ? join(realpathSync(join(modules, via)), ...via.split("/").map(() => "..")) : modules
    const pkg = JSON.parse(readFileSync(join(base, name, "package.json"), "utf8")) as { version?: string }
    return pkg.version ?? "unknown"
  } catch {
    return "unknown"
  }
}

export function versionLine(): string {
  const seen = new Set<string>()
  const parts: string[] = []
  for (const system of SYSTEMS) {
    for (const name of [...system.packages, "ws"]) {
      if (seen.has(name)) continue
      seen.add(name)
      parts.push(
        `${name} ${versionOf(name, name === "@automerge/automerge" ? "@automerge/automerge-repo" : undefined)}`,
      )
    }
  }
  return parts.join(" · ")
}

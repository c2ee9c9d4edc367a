import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const here = dirname(fileURLToPath(import.meta.url))
// Inside the bench package, so that the children resolve its dependencies from its node_modules.
const out = join(here, "../../node_modules/.cache/tandem-bench-net")

export interface ChildScripts {
  server: string
  loadgen: string
}

/**
 * Compiles src/net to plain JavaScript for the child processes, so that servers and load
 * generators run on bare Node, without tsx's loader in their memory and CPU time. Every import
 * stays an import: the peers, and Tandem's packages (their built dist/), load as an application
 * would load them.
 */
export async function compileChildren(): Promise<ChildScripts> {
  const entryPoints = readdirSync(here, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => join(here, file))
  mkdirSync(out, { recursive: true })
  await build({
    entryPoints,
    outdir: out,
    outbase: here,
    format: "esm",
    platform: "node",
    target: "node20",
    bundle: false,
    logLevel: "error",
  })
  writeFileSync(join(out, "package.json"), '{ "type": "module" }\n')
  return { server: join(out, "server-main.js"), loadgen: join(out, "loadgen-main.js") }
}

import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createServer } from "@tandem/server"
import { FsStorage } from "@tandem/storage-fs"
import { build } from "vite"
import { type StaticServer, serveDirectory } from "./static-server.js"

/**
 * Builds an example with its own Vite config and serves the result. It is built in development
 * mode, so that React runs its strict-mode checks (every effect mounted twice) under test.
 */
export async function serveBuiltExample(root: string): Promise<StaticServer> {
  const outDir = await mkdtemp(join(tmpdir(), "tandem-example-"))
  await build({
    root,
    configFile: join(root, "vite.config.ts"),
    mode: "development",
    logLevel: "warn",
    build: { outDir, emptyOutDir: true },
  })
  const server = await serveDirectory(outDir)
  return {
    url: server.url,
    async close() {
      await server.close()
      await rm(outDir, { recursive: true, force: true })
    },
  }
}

/** A relay in this process keeping documents in `dir`, as `tandem serve --data dir` would. */
export interface TestRelay {
  readonly url: string
  readonly port: number
  /** Stops the relay: every client sees its connection drop. */
  stop(): Promise<void>
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>
  /** Stops it (if running) and removes its data. */
  dispose(): Promise<void>
}

export async function startTestRelay(): Promise<TestRelay> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-relay-"))
  const start = async (port: number) => {
    await mkdir(dir, { recursive: true })
    return createServer({ port, host: "127.0.0.1", storage: await FsStorage.open({ dir }) })
  }
  let server: Awaited<ReturnType<typeof createServer>> | null = await start(0)
  const { port, url } = server
  return {
    url,
    port,
    async stop() {
      await server?.close()
      server = null
    },
    async restart() {
      server = await start(port)
    },
    async dispose() {
      await server?.close()
      server = null
      await rm(dir, { recursive: true, force: true })
    },
  }
}

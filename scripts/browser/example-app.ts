import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { createServer } from "@tandem/server"
import { FsStorage } from "@tandem/storage-fs"
import type { Browser, BrowserContext, Page } from "playwright-core"
import { build } from "vite"
import { afterAll, afterEach, beforeAll } from "vitest"
import { launchChromium } from "./chromium.js"
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
    return createServer({
      port,
      host: "127.0.0.1",
      storage: await FsStorage.open({ dir }),
      // The examples' demo sign-in (their dev.ts): a token is a user id, taken on trust.
      auth: { authenticate: ({ token }) => (token ? { userId: token } : null), anonymous: true },
    })
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

/** What a browser test of an example runs against: set up once per test file by `testExample`. */
export interface ExampleUnderTest {
  /** The built example, served over HTTP. */
  readonly app: StaticServer
  readonly relay: TestRelay
  /** A browser profile of its own (its own storage, as another device), closed after the test. */
  newContext(viewport: { width: number; height: number }): Promise<BrowserContext>
  /** Saves a screenshot of the page as `test-artifacts/<name>.png`. */
  screenshot(page: Page, name: string): Promise<void>
}

const artifacts = fileURLToPath(new URL("../../test-artifacts/", import.meta.url))

/** Builds the example at `root`, starts a relay and chromium, and stops them after the file's tests. */
export function testExample(root: string): ExampleUnderTest {
  let app: StaticServer | undefined
  let relay: TestRelay | undefined
  let browser: Browser | undefined
  const cleanups: (() => Promise<unknown>)[] = []
  beforeAll(async () => {
    ;[app, relay, browser] = await Promise.all([serveBuiltExample(root), startTestRelay(), launchChromium()])
  }, 60_000)
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(async () => {
    await browser?.close()
    await Promise.all([app?.close(), relay?.dispose()])
  })
  const started = <T>(part: T | undefined): T => {
    if (part === undefined) throw new Error("the example is not started yet (use it inside a test)")
    return part
  }
  return {
    get app() {
      return started(app)
    },
    get relay() {
      return started(relay)
    },
    async newContext(viewport) {
      const context = await started(browser).newContext({ viewport })
      cleanups.push(() => context.close())
      return context
    },
    async screenshot(page, name) {
      await mkdir(artifacts, { recursive: true })
      await page.screenshot({ path: `${artifacts}${name}.png` })
    },
  }
}

import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"
import type { Browser } from "playwright-core"
import type { PageTestResult } from "./in-page-vitest.js"
import { serveDirectory } from "./static-server.js"

const repoPackage = fileURLToPath(new URL("../../packages/repo/package.json", import.meta.url))

/**
 * loro-crdt's browser builds import their `.wasm` as a module, which needs a bundler plugin; the
 * `base64` build carries it inline and runs anywhere.
 */
export const loroForBrowsers = createRequire(repoPackage).resolve("loro-crdt/base64")

export interface TestPage {
  url: string
  close(): Promise<void>
}

/**
 * Bundles `entry` (TypeScript or TSX, workspace packages from their sources) into a page served on
 * 127.0.0.1. Inside it, `vitest` is a small in-page runner, so suites written for vitest run too.
 */
export async function buildTestPage(entry: string): Promise<TestPage> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-page-"))
  await build({
    entryPoints: { page: entry },
    outdir: dir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["source"],
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"development"' },
    alias: {
      vitest: fileURLToPath(new URL("./in-page-vitest.ts", import.meta.url)),
      "loro-crdt": loroForBrowsers,
    },
    logLevel: "error",
  })
  await writeFile(
    join(dir, "index.html"),
    '<!doctype html><meta charset="utf-8"><title>test</title><div id="root"></div><script type="module" src="/page.js"></script>',
  )
  const server = await serveDirectory(dir)
  return {
    url: server.url,
    async close() {
      await server.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Opens a page whose script sets `window.testResults` (from `runCollected()`), waits for it and
 * returns the results. Console errors of the page are kept in the failures they explain.
 */
export async function runPageTests(browser: Browser, url: string): Promise<PageTestResult[]> {
  const page = await browser.newPage()
  const errors: string[] = []
  page.on("pageerror", (error) => errors.push(error.message))
  try {
    await page.goto(url)
    const handle = await page.waitForFunction(() => (window as { testResults?: unknown }).testResults, null, {
      timeout: 120_000,
    })
    return (await handle.jsonValue()) as PageTestResult[]
  } catch (error) {
    throw new Error(`the test page failed: ${errors.join("; ") || String(error)}`)
  } finally {
    await page.close()
  }
}

/**
 * Runs a README's example in chromium and returns what it printed with `console.log`. The code is
 * bundled from `dir` (the package's folder, so its imports resolve as they would for a user).
 */
export async function runExampleInBrowser(
  browser: Browser,
  dir: string,
  code: string,
  extension: "ts" | "tsx" = "ts",
): Promise<string[]> {
  const example = join(dir, `.readme-example-${process.pid}.${extension}`)
  const entry = join(dir, `.readme-example-${process.pid}-entry.ts`)
  await writeFile(example, code)
  await writeFile(
    entry,
    // A dynamic import: a static one of a module without exports is dropped from a package that
    // declares "sideEffects": false.
    `await import("./.readme-example-${process.pid}.js")\n;(window as { exampleDone?: boolean }).exampleDone = true\n`,
  )
  const page = await buildTestPage(entry).finally(() =>
    Promise.all([rm(example, { force: true }), rm(entry, { force: true })]),
  )
  const tab = await browser.newPage()
  const printed: string[] = []
  const errors: string[] = []
  tab.on("console", (message) => {
    if (message.type() === "log") printed.push(message.text())
  })
  tab.on("pageerror", (error) => errors.push(error.message))
  try {
    await tab.goto(page.url)
    await tab
      .waitForFunction(() => (window as { exampleDone?: boolean }).exampleDone, null, { timeout: 30_000 })
      .catch((error) => {
        throw new Error(`the example failed: ${errors.join("; ") || String(error)}`)
      })
    return printed
  } finally {
    await tab.close()
    await page.close()
  }
}

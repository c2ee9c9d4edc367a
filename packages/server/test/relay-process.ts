import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url))

export interface RelayProcessOptions {
  /** Arguments for node itself, before the script (e.g. a small heap). */
  node?: string[]
  env?: Record<string, string>
}

/**
 * Starts `tandem serve` (the built CLI) in a child process on 127.0.0.1 and resolves once it
 * answers `/readyz`; `args` follow `serve --port N --host 127.0.0.1`.
 */
export async function startRelayProcess(
  port: number,
  args: string[],
  options: RelayProcessOptions = {},
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...(options.node ?? []), cli, "serve", "--port", String(port), "--host", "127.0.0.1", ...args],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...options.env } },
  )
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`the relay exited with ${child.exitCode}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

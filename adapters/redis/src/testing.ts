import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"

export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Stops the server (SIGTERM) and waits for it to exit. Without `persist` its data is gone. */
  stop(): Promise<void>
  /** Kills the server (SIGKILL). */
  kill(): Promise<void>
  /** Starts it again on the same port. */
  start(): Promise<void>
  /** Stops it for good. */
  close(): Promise<void>
}

export interface RedisServerOptions {
  /** Keep data across `stop`/`start` (an append-only file in a temporary directory). Default off. */
  persist?: boolean
  /** The `redis-server` binary (default: the one on PATH). */
  binary?: string
}

/**
 * Starts a real `redis-server` on a free port, for tests and examples. Needs `redis-server`
 * installed (Debian: `apt-get install redis-server`).
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const port = await freePort()
  const binary = options.binary ?? "redis-server"
  const dir = options.persist
    ? await import("node:fs/promises").then((fs) => fs.mkdtemp("/tmp/tandem-redis-"))
    : null
  let child: ChildProcess | null = null

  const start = async (): Promise<void> => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", ""]
    args.push(...(dir ? ["--appendonly", "yes", "--dir", dir] : ["--appendonly", "no"]))
    const started = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] })
    child = started
    await new Promise<void>((resolve, reject) => {
      let output = ""
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes("Ready to accept connections")) {
          started.stdout?.off("data", onData)
          started.stdout?.resume()
          resolve()
        }
      }
      started.stdout?.on("data", onData)
      started.stderr?.resume()
      started.once("error", reject)
      started.once("exit", (code) =>
        reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)),
      )
    })
  }

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child
    child = null
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve())
      running.kill(signal)
    })
  }

  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => terminate("SIGTERM"),
    kill: () => terminate("SIGKILL"),
    start,
    async close() {
      await terminate("SIGKILL")
      if (dir) await import("node:fs/promises").then((fs) => fs.rm(dir, { recursive: true, force: true }))
    },
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

import { type ChildProcess, spawn } from "node:child_process"
import {
  type AddressInfo,
  connect as connectTcp,
  createServer as createNetServer,
  type Server,
  type Socket,
} from "node:net"
import { fileURLToPath } from "node:url"
import type { Json, Room } from "@tandem/repo"
import { createServer, type ServerOptions, type TandemServer } from "@tandem/server"

/**
 * Waits until `condition` holds, checking it every few milliseconds: for state that several
 * processes reach through Redis, where no single event says "now". Fails with `what` on timeout.
 */
export async function eventually(
  what: string,
  condition: () => boolean,
  timeoutMs = 20_000,
  state: () => unknown = () => "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${JSON.stringify(state())}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** One relay instance of a service, in this process. */
export async function instance(
  url: string,
  instanceId: string,
  options: ServerOptions & { service?: string; instanceTtlMs?: number; waitForRedis?: boolean } = {},
): Promise<TandemServer> {
  const { service = "test", instanceTtlMs = 3000, waitForRedis = true, ...rest } = options
  const server = await createServer({
    port: 0,
    host: "127.0.0.1",
    redis: { url, service, instanceId, instanceTtlMs },
    ...rest,
  })
  if (waitForRedis) await server.redis?.whenStarted()
  return server
}

/** The members a room lists, as sorted peer ids. */
export function memberIds<P extends Json>(room: Room<P>): string[] {
  return room
    .getMembers()
    .map((member) => member.peerId)
    .sort()
}

/** Every member's presence, by peer id, as JSON text: equal on every instance once converged. */
export function presences<P extends Json>(room: Room<P>): string {
  const entries = room
    .getMembers()
    .map((member) => [member.peerId, sortedKeys(member.presence)] as const)
    .sort(([a], [b]) => a.localeCompare(b))
  return JSON.stringify(entries)
}

/**
 * A TCP load balancer in front of several relay ports, as a deployment puts one: each new
 * connection goes to the next backend in turn, skipping those that refuse it.
 */
export class LoadBalancer {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #next = 0

  private constructor(
    private readonly backends: number[],
    server: Server,
  ) {
    this.#server = server
  }

  static async start(backends: number[]): Promise<LoadBalancer> {
    const server = createNetServer()
    const balancer = new LoadBalancer(backends, server)
    server.on("connection", (socket) => {
      balancer.#track(socket)
      socket.pause()
      balancer.#route(socket, 0)
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    return balancer
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  #route(client: Socket, tried: number): void {
    if (tried >= this.backends.length) return void client.destroy()
    const port = this.backends[this.#next++ % this.backends.length] as number
    const backend = connectTcp(port, "127.0.0.1")
    const refused = () => this.#route(client, tried + 1)
    backend.once("error", refused)
    backend.once("connect", () => {
      backend.off("error", refused)
      this.#track(backend)
      client.pipe(backend).pipe(client)
      client.resume()
      for (const [a, b] of [
        [client, backend],
        [backend, client],
      ] as const) {
        a.on("error", () => b.destroy())
        a.on("close", () => b.destroy())
      }
    })
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket)
    socket.on("close", () => this.#sockets.delete(socket))
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

/** A relay instance as its own process (`tandem serve --redis`), for tests that kill it. */
export class RelayProcess {
  #child: ChildProcess | null = null

  constructor(
    readonly port: number,
    readonly args: string[],
  ) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [cli, "serve", "--port", String(this.port), "--host", "127.0.0.1", ...this.args],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    )
    this.#child = child
    await new Promise<void>((resolve, reject) => {
      let output = ""
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes("joined the service")) {
          child.stdout?.off("data", onData)
          child.stdout?.resume()
          resolve()
        }
      }
      child.stdout?.on("data", onData)
      child.once("exit", (code) => reject(new Error(`relay exited with ${code}: ${output.slice(-1000)}`)))
    })
  }

  /** SIGKILL: no goodbye to anyone, nothing flushed. */
  async kill(): Promise<void> {
    await this.#signal("SIGKILL")
  }

  async stop(): Promise<void> {
    await this.#signal("SIGTERM")
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child
    this.#child = null
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      child.kill(signal)
    })
  }
}

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url))

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, inner]) => [key, sortedKeys(inner)]),
  )
}

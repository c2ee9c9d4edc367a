import { type ChildProcess, fork } from "node:child_process"

/** A request from the harness to a child, and the child's answer. */
interface Request {
  id: number
  type: string
  args: unknown
}

type Reply = { id: number; result: unknown } | { id: number; error: string }

type Handlers = Record<string, (args: never) => unknown>

/** In a child: answers the harness's requests with `handlers`, then says it is ready. */
export function serve(handlers: Handlers, ready: unknown = {}): void {
  process.on("message", async (message: Request) => {
    const handler = handlers[message.type] as ((args: unknown) => unknown) | undefined
    try {
      if (!handler) throw new Error(`unknown request ${message.type}`)
      const result = await handler(message.args)
      process.send?.({ id: message.id, result: result ?? null } satisfies Reply)
    } catch (error) {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
      process.send?.({ id: message.id, error: text } satisfies Reply)
    }
  })
  // The harness goes away (killed, or crashed): so do we.
  process.on("disconnect", () => process.exit(0))
  process.send?.({ id: 0, result: ready } satisfies Reply)
}

/** In the harness: a child process spoken to by requests. */
export class Child {
  readonly process: ChildProcess
  readonly ready: Promise<unknown>
  #next = 1
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  #exited: string | null = null
  #stderr = ""

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
    execArgv: readonly string[] = [],
  ) {
    this.process = fork(script, args, {
      execArgv: [...execArgv],
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      serialization: "advanced",
    })
    this.process.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000)
      if (process.env.NET_DEBUG) process.stderr.write(`[${this.name}] ${chunk.toString()}`)
    })
    let settleReady: { resolve: (value: unknown) => void; reject: (error: Error) => void } | null = null
    this.ready = new Promise((resolve, reject) => {
      settleReady = { resolve, reject }
    })
    this.#pending.set(0, settleReady as unknown as { resolve: () => void; reject: () => void })
    this.process.on("message", (reply: Reply) => {
      const pending = this.#pending.get(reply.id)
      if (!pending) return
      this.#pending.delete(reply.id)
      if ("error" in reply) pending.reject(new Error(`${this.name}: ${reply.error}`))
      else pending.resolve(reply.result)
    })
    this.process.on("exit", (code, signal) => {
      this.#exited = `${this.name} exited (${signal ?? code})${this.#stderr ? `: ${this.#stderr.trim()}` : ""}`
      for (const pending of this.#pending.values()) pending.reject(new Error(this.#exited))
      this.#pending.clear()
    })
  }

  get pid(): number {
    return this.process.pid ?? -1
  }

  get alive(): boolean {
    return this.#exited === null
  }

  request<T>(type: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    if (this.#exited !== null) return Promise.reject(new Error(this.#exited))
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.name}: ${type} took more than ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value as T)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      this.process.send({ id, type, args } satisfies Request)
    })
  }

  /** Waits up to `ms` for the child to exit by itself, then kills it. */
  async stop(ms = 5_000): Promise<void> {
    if (this.#exited !== null) return
    const exited = new Promise<void>((resolve) => this.process.once("exit", () => resolve()))
    const timer = setTimeout(() => this.process.kill("SIGKILL"), ms)
    await exited
    clearTimeout(timer)
  }

  kill(): Promise<void> {
    if (this.#exited !== null) return Promise.resolve()
    const exited = new Promise<void>((resolve) => this.process.once("exit", () => resolve()))
    this.process.kill("SIGKILL")
    return exited
  }
}

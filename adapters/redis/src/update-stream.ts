import type { Redis } from "ioredis"
import { compareStreamIds } from "./keys.js"

export interface StreamOptions {
  key: string
  /** Entries kept, roughly (`XADD MAXLEN ~`). */
  maxLen: number
  /** How long one blocking read waits for new entries (ms). */
  blockMs: number
  onEntry: (id: string, packet: Buffer) => void
  onError: (error: unknown) => void
}

type ReadReply = [key: Buffer, entries: [id: Buffer, fields: Buffer[]][]][] | null
type RangeReply = [id: Buffer, fields: Buffer[]][]

const READ_COUNT = 500

/**
 * Document updates on a Redis stream. Each instance reads from its own last id on a dedicated
 * connection (no consumer groups: every instance wants every entry), so an instance that was
 * away resumes exactly where it stopped, as long as the stream was not trimmed past that point.
 */
export class UpdateStream {
  /** The id of the last entry read: the cursor saved in Redis. */
  lastId = "0-0"
  /** How old the last entry read was when it was read (ms); 0 when caught up. */
  lagMs = 0
  #running = false
  #waiters: { target: string; resolve: () => void }[] = []

  constructor(
    private readonly writer: Redis,
    private readonly reader: Redis,
    private readonly options: StreamOptions,
  ) {}

  append(packet: Buffer): void {
    const { key, maxLen } = this.options
    this.writer.xadd(key, "MAXLEN", "~", maxLen, "*", "p", packet).catch(this.options.onError)
  }

  /**
   * Where reading starts. With no saved cursor, at the end (a new instance needs no history).
   * True if entries after the cursor are gone (trimmed, or Redis lost its data): a gap that only
   * a sync with the other instances fills.
   */
  async resume(cursor: string | null): Promise<boolean> {
    if (cursor === null) {
      this.lastId = await this.endId()
      return false
    }
    this.lastId = cursor
    if (cursor === "0-0") return false
    const { key } = this.options
    const exact = (await this.writer.xrangeBuffer(key, cursor, cursor)) as RangeReply
    if (exact.length > 0) return false
    const first = (await this.writer.xrangeBuffer(key, "-", "+", "COUNT", 1)) as RangeReply
    const firstId = first[0]?.[0].toString()
    return firstId === undefined || compareStreamIds(firstId, cursor) > 0
  }

  /** The id of the newest entry, or `0-0` for an empty stream. */
  async endId(): Promise<string> {
    const last = (await this.writer.xrevrangeBuffer(this.options.key, "+", "-", "COUNT", 1)) as RangeReply
    return last[0]?.[0].toString() ?? "0-0"
  }

  async length(): Promise<number> {
    return this.writer.xlen(this.options.key)
  }

  /** Resolves once everything in the stream now has been read. */
  async whenCaughtUp(): Promise<void> {
    const target = await this.endId()
    if (compareStreamIds(this.lastId, target) >= 0) return
    await new Promise<void>((resolve) => this.#waiters.push({ target, resolve }))
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    void this.#loop()
  }

  stop(): void {
    this.#running = false
    for (const { resolve } of this.#waiters.splice(0)) resolve()
  }

  async #loop(): Promise<void> {
    const { key, blockMs, onEntry } = this.options
    while (this.#running) {
      let reply: ReadReply
      try {
        reply = (await this.reader.callBuffer(
          "XREAD",
          "COUNT",
          READ_COUNT,
          "BLOCK",
          blockMs,
          "STREAMS",
          key,
          this.lastId,
        )) as ReadReply
      } catch (error) {
        if (!this.#running) return
        this.options.onError(error)
        // Redis is away: ioredis reconnects; try again shortly.
        await new Promise((resolve) => setTimeout(resolve, 250))
        continue
      }
      if (!this.#running) return
      const entries = reply?.[0]?.[1] ?? []
      for (const [rawId, fields] of entries) {
        const id = rawId.toString()
        this.lastId = id
        this.lagMs = Math.max(0, Date.now() - Number(id.split("-")[0]))
        const packet = fieldValue(fields, "p")
        if (packet) onEntry(id, packet)
      }
      if (entries.length < READ_COUNT) this.lagMs = 0
      this.#wake()
    }
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter(({ target, resolve }) => {
      if (compareStreamIds(this.lastId, target) < 0) return true
      resolve()
      return false
    })
  }
}

function fieldValue(fields: Buffer[], name: string): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i]?.toString() === name) return fields[i + 1]
  }
  return undefined
}

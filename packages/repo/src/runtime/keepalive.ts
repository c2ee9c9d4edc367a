import type { ChannelId } from "../types.js"

export interface KeepaliveOptions {
  /** Ping a channel that has been silent this long (ms). */
  interval: number
  /** Close a channel that has been silent this long (ms): the peer is gone. */
  timeout: number
}

export const defaultKeepalive: KeepaliveOptions = { interval: 15_000, timeout: 30_000 }

/**
 * Detects dead channels, including half-open ones where the far end vanished without a word.
 * Any message counts as a sign of life; a ping goes out only after `interval` of silence, so a
 * busy channel carries no extra traffic and an idle one about one ping and pong per interval.
 */
export class Keepalive {
  readonly #heard = new Map<ChannelId, number>()
  readonly #pinged = new Map<ChannelId, number>()
  readonly #timer: ReturnType<typeof setInterval>

  constructor(
    private readonly options: KeepaliveOptions,
    private readonly ping: (channelId: ChannelId) => void,
    private readonly dead: (channelId: ChannelId) => void,
    private readonly now: () => number = Date.now,
  ) {
    const tick = Math.max(10, Math.min(1000, options.interval / 2))
    this.#timer = setInterval(() => this.#check(), tick)
    // Checking liveness is no reason to keep a process running.
    if (typeof this.#timer === "object" && "unref" in this.#timer) this.#timer.unref()
  }

  heard(channelId: ChannelId): void {
    this.#heard.set(channelId, this.now())
  }

  forget(channelId: ChannelId): void {
    this.#heard.delete(channelId)
    this.#pinged.delete(channelId)
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  #check(): void {
    const now = this.now()
    for (const [channelId, heard] of this.#heard) {
      const silent = now - heard
      if (silent > this.options.timeout) {
        this.forget(channelId)
        this.dead(channelId)
      } else if (silent >= this.options.interval) {
        const pinged = this.#pinged.get(channelId) ?? Number.NEGATIVE_INFINITY
        if (now - pinged >= this.options.interval) {
          this.#pinged.set(channelId, now)
          this.ping(channelId)
        }
      }
    }
  }
}

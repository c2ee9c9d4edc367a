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
 *
 * A channel is dead when a ping has gone unanswered for `timeout - interval`, and still is after
 * one more turn of the event loop. Silence alone proves nothing when this process was not
 * listening: a loop stalled for longer than the timeout (an overloaded process, a browser tab
 * whose timers are throttled to one a minute) runs its timers before it reads what arrived
 * meanwhile, so the verdict waits until that has been read, and a channel nobody pinged during
 * the stall gets its ping first.
 */
export class Keepalive {
  readonly #heard = new Map<ChannelId, number>()
  /** When each channel was last pinged. */
  readonly #pinged = new Map<ChannelId, number>()
  readonly #timer: ReturnType<typeof setInterval>
  #stopped = false

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
    this.#stopped = true
    clearInterval(this.#timer)
  }

  #check(): void {
    const now = this.now()
    const { interval, timeout } = this.options
    const suspects: ChannelId[] = []
    for (const [channelId, heard] of this.#heard) {
      if (now - heard < interval) continue
      const pinged = this.#pinged.get(channelId)
      if (pinged === undefined || heard >= pinged) {
        this.#pinged.set(channelId, now)
        this.ping(channelId)
      } else if (now - pinged >= timeout - interval) {
        suspects.push(channelId)
      }
    }
    if (suspects.length > 0) setTimeout(() => this.#confirm(suspects), 0)
  }

  /** After the loop has read what was waiting: still nothing since the ping. */
  #confirm(suspects: ChannelId[]): void {
    if (this.#stopped) return
    for (const channelId of suspects) {
      const heard = this.#heard.get(channelId)
      const pinged = this.#pinged.get(channelId)
      if (heard === undefined || pinged === undefined || heard >= pinged) continue
      this.forget(channelId)
      this.dead(channelId)
    }
  }
}

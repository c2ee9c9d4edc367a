import type { Redis } from "ioredis"

/**
 * The pub/sub channels of the rooms this instance follows. A subscription must be in place
 * before anyone is asked to send on it (or the first messages are lost), so `subscribe` returns
 * a promise the sender waits for before it sends the join.
 */
export class RoomChannels {
  readonly #subscribed = new Map<string, Promise<void>>()

  constructor(private readonly subscriber: Redis) {}

  subscribe(channel: string): Promise<void> | null {
    if (this.#subscribed.has(channel)) return null
    const done = this.subscriber.subscribe(channel).then(
      () => undefined,
      () => undefined,
    )
    this.#subscribed.set(channel, done)
    return done
  }

  unsubscribe(channel: string): void {
    if (!this.#subscribed.delete(channel)) return
    this.subscriber.unsubscribe(channel).catch(() => {})
  }

  get size(): number {
    return this.#subscribed.size
  }
}

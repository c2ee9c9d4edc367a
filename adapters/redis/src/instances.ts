import type { Redis } from "ioredis"
import type { ServiceKeys } from "./keys.js"

/**
 * The instances of a service, as their liveness keys say: each instance writes its per-boot epoch
 * under its id with a TTL and renews it at every heartbeat. A key that is gone, or holds another
 * epoch, means that incarnation is dead.
 */
export class InstanceRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ServiceKeys,
    private readonly instanceId: string,
    private readonly epoch: string,
    private readonly ttlMs: number,
  ) {}

  /**
   * Renews this instance's key. False if the key was gone or held another epoch before: the
   * other instances may have taken this one for dead, and it must announce itself again.
   */
  async beat(): Promise<boolean> {
    const key = this.keys.instance(this.instanceId)
    const previous = await this.redis.call("SET", key, this.epoch, "PX", this.ttlMs, "GET")
    return previous === this.epoch
  }

  /** Every live instance but this one, with its epoch. */
  async others(): Promise<Map<string, string>> {
    const found = new Map<string, string>()
    const prefix = this.keys.instance("")
    let cursor = "0"
    const ids: string[] = []
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", this.keys.instances, "COUNT", 1000)
      cursor = next
      for (const key of keys) {
        const id = key.slice(prefix.length)
        if (id !== this.instanceId) ids.push(id)
      }
    } while (cursor !== "0")
    const epochs = await this.epochsOf(ids)
    for (const [index, id] of ids.entries()) {
      const epoch = epochs[index]
      if (epoch) found.set(id, epoch)
    }
    return found
  }

  /** The epoch each instance's key holds now (null where the key is gone). */
  async epochsOf(ids: readonly string[]): Promise<(string | null)[]> {
    if (ids.length === 0) return []
    return this.redis.mget(ids.map((id) => this.keys.instance(id)))
  }

  /** Removes this instance's key, if it still holds this epoch. */
  async remove(): Promise<void> {
    const key = this.keys.instance(this.instanceId)
    if ((await this.redis.get(key)) === this.epoch) await this.redis.del(key)
  }
}

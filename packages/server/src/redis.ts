import { randomBytes } from "node:crypto"
import { RedisRelayAdapter } from "@tandem/adapter-redis"

/** Several relay instances as one service, through one Redis. */
export interface RedisServiceOptions {
  /** `redis://host:port` */
  url: string
  /** Instances with the same service name (and Redis) are one service (default "tandem"). */
  service?: string
  /** This instance's id, stable across its restarts (default: the server's `peerId`, else random). */
  instanceId?: string
  /** An instance silent this long is dead: its members leave everywhere (ms, default 12 s). */
  instanceTtlMs?: number
  /** Stream entries kept, roughly (default 100,000). */
  streamMaxLen?: number
}

/** The Redis relay for a server: the adapter, and the id the server's repo must use as its `peerId`. */
export function redisRelay(options: RedisServiceOptions, peerId: string | undefined): RedisRelayAdapter {
  const instanceId = options.instanceId ?? peerId ?? `relay-${randomBytes(6).toString("hex")}`
  return new RedisRelayAdapter({
    url: options.url,
    instanceId,
    ...(options.service !== undefined && { service: options.service }),
    ...(options.instanceTtlMs !== undefined && { instanceTtlMs: options.instanceTtlMs }),
    ...(options.streamMaxLen !== undefined && { streamMaxLen: options.streamMaxLen }),
  })
}

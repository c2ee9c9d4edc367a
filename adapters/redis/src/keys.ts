// Every key and channel of one service, under one hash tag so the layout works on Redis Cluster
// (all keys of a service live in one slot: multi-key commands and Lua stay possible).

export interface ServiceKeys {
  /** An instance's liveness key: its epoch, with a TTL its heartbeat renews. */
  instance(instanceId: string): string
  /** SCAN pattern for every liveness key. */
  readonly instances: string
  /** The stream of document updates and deletions. */
  readonly updates: string
  /** How far an instance has read the stream, saved at every heartbeat. */
  cursor(instanceId: string): string
  /** Pub/sub: instances announcing themselves, answering, and leaving. */
  readonly control: string
  /** Pub/sub: messages addressed to one instance (sync requests and replies, room snapshots). */
  inbox(instanceId: string): string
  /** Pub/sub: one room's presence and broadcasts. */
  room(roomId: string): string
}

export function serviceKeys(service: string): ServiceKeys {
  const prefix = `tandem:{${service}}`
  return {
    instance: (instanceId) => `${prefix}:instance:${instanceId}`,
    instances: `${prefix}:instance:*`,
    updates: `${prefix}:updates`,
    cursor: (instanceId) => `${prefix}:cursor:${instanceId}`,
    control: `${prefix}:control`,
    inbox: (instanceId) => `${prefix}:inbox:${instanceId}`,
    room: (roomId) => `${prefix}:room:${roomId}`,
  }
}

/** Orders stream ids (`ms-seq`): negative if `a` is older than `b`. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split("-").map(Number)
  const [bMs = 0, bSeq = 0] = b.split("-").map(Number)
  return aMs === bMs ? aSeq - bSeq : aMs - bMs
}

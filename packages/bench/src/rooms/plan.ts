/** The presence workload both systems run: `peers` in one room, each updating at `hz`. */
export interface PresencePlan {
  peers: number
  hz: number
  seconds: number
}

/** Every peer's update for tick `tick`: the whole small object, changed on every tick. */
// A type alias, not an interface: only an alias is assignable to the repo's `Json`.
export type Cursor = { x: number; y: number; name: string }

export function cursorAt(peer: number, tick: number): Cursor {
  // x carries the tick, so a receiver can tell which update it got (and when it was due).
  return { x: tick, y: (peer * 7 + tick * 3) % 1000, name: `peer ${peer}` }
}

export function ticksPerPeer(plan: PresencePlan): number {
  return Math.round(plan.hz * plan.seconds)
}

/** Updates made, and deliveries if every update reached every other peer. */
export function expectedCounts(plan: PresencePlan): { updates: number; deliveries: number } {
  const updates = plan.peers * ticksPerPeer(plan)
  return { updates, deliveries: updates * (plan.peers - 1) }
}

/**
 * When peer `peer` makes update `tick`, in ms from the start: the peers' ticks are spread evenly
 * over each period, so the load is steady rather than 200 updates at once every 100 ms.
 */
export function dueAt(plan: PresencePlan, peer: number, tick: number): number {
  const period = 1000 / plan.hz
  return tick * period + (peer * period) / plan.peers
}

import { dueAt, type PresencePlan, ticksPerPeer } from "./plan.js"

/**
 * Runs `tick(peer, tick)` for every peer and tick at its due time (`dueAt`), in order. A timer
 * wakes the loop for the next due tick; ticks that fell due while the process was busy run as
 * soon as it wakes, late, as they would for an application whose event loop is busy.
 * Resolves once the last tick ran.
 */
export function runSchedule(
  plan: PresencePlan,
  tick: (peer: number, tick: number) => void,
  started: number = performance.now(),
): Promise<void> {
  const total = plan.peers * ticksPerPeer(plan)
  let next = 0
  return new Promise((resolve) => {
    const wake = () => {
      const now = performance.now() - started
      while (next < total) {
        const peer = next % plan.peers
        const t = Math.floor(next / plan.peers)
        if (dueAt(plan, peer, t) > now) break
        tick(peer, t)
        next++
      }
      if (next === total) return resolve()
      const peer = next % plan.peers
      const t = Math.floor(next / plan.peers)
      setTimeout(wake, Math.max(0, dueAt(plan, peer, t) - (performance.now() - started)))
    }
    wake()
  })
}

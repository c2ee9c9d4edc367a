/** Deliveries and CPU over one stretch of a run: a second of the schedule, or a slice of the floor. */
export interface Window {
  deliveries: number
  ms: number
  cpuMs: number
}

/** What one system did in one presence run. */
export interface RoomResult {
  peers: number
  /** Presence updates the peers made (calls to `setPresence`, or `set` on the floor). */
  updates: number
  /** Updates received by peers (one per receiving peer). */
  deliveries: number
  /** Every update at every other peer. */
  expectedDeliveries: number
  /** Every peer ended up holding every other peer's last update. */
  complete: boolean
  /** Until every peer listed every other one (ms); NaN for the floor, which has no joins. */
  joinMs: number
  /** From the first update due to the last delivery (ms). */
  elapsedMs: number
  /** CPU time of the whole process over `elapsedMs` (ms). */
  cpuMs: number
  /** From when an update was due to when a peer had it (ms); NaN where not measured. */
  latencyMs: { p50: number; p99: number; max: number }
  /** The run cut into stretches, for the spread of the rate and of the CPU per delivery. */
  windows: Window[]
}

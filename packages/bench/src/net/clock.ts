/**
 * The shared clock: CLOCK_MONOTONIC in milliseconds. On Linux it is one clock for every process
 * of the machine, so a stamp taken in one load generator can be compared with the time of
 * arrival in another (Date.now() has only millisecond resolution and can be stepped).
 */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
}

/** Waits until the shared clock reads `at`. */
export function sleepUntil(at: number): Promise<void> {
  return sleep(at - now())
}

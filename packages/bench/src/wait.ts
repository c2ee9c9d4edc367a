/**
 * Checks `done` once per turn of the event loop until it holds. The check is cheap and a turn
 * lets the system under test run, so the caller's clock stops within microseconds of the end
 * (a millisecond timer would blur the few-ms sync by a third).
 */
export async function waitFor(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** How many operations completed, and over how long (ms). */
export interface LoopResult {
  completed: number
  elapsedMs: number
}

/**
 * `workers` concurrent loops, each starting its next operation as soon as the last one resolved,
 * until `ms` have passed. The clock stops when the last operation in flight resolves.
 */
export async function closedLoop(
  workers: number,
  ms: number,
  operation: (worker: number) => Promise<void>,
): Promise<LoopResult> {
  let completed = 0
  const started = performance.now()
  const end = started + ms
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < end) {
        await operation(worker)
        completed++
      }
    }),
  )
  return { completed, elapsedMs: performance.now() - started }
}

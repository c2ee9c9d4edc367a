export interface BackoffOptions {
  /** The ceiling of the first retry's delay (ms). */
  initialDelay: number
  /** The ceiling never grows past this (ms). */
  maxDelay: number
  /** After this many failures in a row, retries slow down to the slow tier. */
  slowAfter: number
  /** The slow tier waits between `maxDelay` and this (ms). */
  slowDelay: number
  /** Give up after this many failures in a row (default: never). */
  maxAttempts: number
}

export const defaultBackoff: BackoffOptions = {
  initialDelay: 250,
  maxDelay: 30_000,
  slowAfter: 20,
  slowDelay: 120_000,
  maxAttempts: Number.POSITIVE_INFINITY,
}

/**
 * How long to wait before retry number `attempt` (0 for the first): exponential backoff with full
 * jitter, a uniform draw below a ceiling that doubles each time, so a crowd of clients that lost
 * the same server spreads its reconnects instead of arriving at once.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  if (attempt >= options.slowAfter) {
    return options.maxDelay + random() * (options.slowDelay - options.maxDelay)
  }
  const ceiling = Math.min(options.maxDelay, options.initialDelay * 2 ** attempt)
  return random() * ceiling
}

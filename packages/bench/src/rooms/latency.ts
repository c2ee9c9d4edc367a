/**
 * Delivery latencies (ms), one per delivery, kept in a preallocated typed array: a JS array of
 * millions of numbers would cost more to grow and collect than what is being measured.
 */
export class Latencies {
  readonly #values: Float32Array
  #count = 0

  constructor(capacity: number) {
    this.#values = new Float32Array(capacity)
  }

  add(ms: number): void {
    if (this.#count < this.#values.length) this.#values[this.#count++] = ms
  }

  /** The p-th percentile (0–100), or NaN with nothing recorded. */
  percentiles(ps: readonly number[]): number[] {
    const sorted = this.#values.subarray(0, this.#count).sort()
    return ps.map((p) =>
      sorted.length === 0
        ? Number.NaN
        : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number),
    )
  }
}

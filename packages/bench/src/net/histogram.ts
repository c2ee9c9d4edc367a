/**
 * A log-linear latency histogram in microseconds: exact below 64 µs, then 64 buckets per power of
 * two (under 1.6% error), up to about 4.6 hours. Cheap to record and small to send between
 * processes, so every delivery is counted rather than a sample of them.
 */
const SUB = 64
const SUB_BITS = 6

export class Histogram {
  counts: number[] = []
  total = 0

  /** Records a latency in milliseconds. Negative values (clock noise) count as 0. */
  record(ms: number): void {
    const index = bucketOf(Math.max(0, Math.round(ms * 1000)))
    this.counts[index] = (this.counts[index] ?? 0) + 1
    this.total++
  }

  merge(other: HistogramData): void {
    for (const [index, count] of other.buckets) {
      this.counts[index] = (this.counts[index] ?? 0) + count
      this.total += count
    }
  }

  /** The latency (ms) below which `q` (0..1) of the recorded values fall. */
  quantile(q: number): number {
    if (this.total === 0) return Number.NaN
    const rank = Math.max(1, Math.ceil(q * this.total))
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0
      if (seen >= rank) return middleOf(i) / 1000
    }
    return middleOf(this.counts.length - 1) / 1000
  }

  toData(): HistogramData {
    const buckets: [number, number][] = []
    for (let i = 0; i < this.counts.length; i++) {
      const count = this.counts[i]
      if (count) buckets.push([i, count])
    }
    return { buckets }
  }

  static from(data: readonly HistogramData[]): Histogram {
    const histogram = new Histogram()
    for (const d of data) histogram.merge(d)
    return histogram
  }
}

export interface HistogramData {
  buckets: [number, number][]
}

function bucketOf(us: number): number {
  if (us < SUB) return us
  const exponent = Math.floor(Math.log2(us))
  const shift = exponent - SUB_BITS
  return SUB + shift * SUB + (Math.floor(us / 2 ** shift) - SUB)
}

/** The middle of the bucket. */
function middleOf(index: number): number {
  if (index < SUB) return index
  const shift = Math.floor((index - SUB) / SUB)
  const mantissa = ((index - SUB) % SUB) + SUB
  return (mantissa + 0.5) * 2 ** shift
}

interface WaitingAppend {
  record: Uint8Array
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Runs one document's file operations one at a time, in the order they were asked for, and
 * lets appends share fsyncs: the appends that wait together (arriving within `windowMs` of the
 * first, or while an earlier operation still runs) are written by one operation with one fsync.
 */
export class GroupCommitQueue {
  readonly #windowMs: number
  readonly #write: (records: Uint8Array[]) => Promise<void>
  #tail: Promise<void> = Promise.resolve()
  #queued = 0
  #waiting: WaitingAppend[] = []
  #writeQueued = false
  #cancelTimer: (() => void) | undefined

  constructor(windowMs: number, write: (records: Uint8Array[]) => Promise<void>) {
    this.#windowMs = windowMs
    this.#write = write
  }

  /** Nothing waits and nothing runs. */
  get idle(): boolean {
    return this.#queued === 0 && this.#waiting.length === 0
  }

  /** Resolves once `record` is written and fsynced. */
  append(record: Uint8Array): Promise<void> {
    const written = new Promise<void>((resolve, reject) => this.#waiting.push({ record, resolve, reject }))
    const startsGroup = !this.#writeQueued && !this.#cancelTimer
    if (startsGroup) this.#cancelTimer = after(this.#windowMs, () => this.flush())
    return written
  }

  /** Runs `operation` after everything asked for before it, appends included. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    this.flush()
    return this.#enqueue(operation)
  }

  /** Queues the waiting appends' write now instead of at the end of the window. */
  flush(): void {
    this.#cancelTimer?.()
    this.#cancelTimer = undefined
    if (this.#writeQueued || this.#waiting.length === 0) return
    this.#writeQueued = true
    void this.#enqueue(() => this.#writeWaiting())
  }

  /** Writes what waits and resolves once everything asked for so far has finished. */
  async drain(): Promise<void> {
    this.flush()
    await this.#tail
  }

  async #writeWaiting(): Promise<void> {
    // Appends that arrived while this write waited its turn go in it too.
    this.#writeQueued = false
    const batch = this.#waiting.splice(0)
    try {
      await this.#write(batch.map((append) => append.record))
      for (const append of batch) append.resolve()
    } catch (error) {
      for (const append of batch) append.reject(error)
    }
  }

  #enqueue<T>(operation: () => Promise<T>): Promise<T> {
    this.#queued++
    const result = this.#tail.then(operation)
    const settled = () => {
      this.#queued--
    }
    this.#tail = result.then(settled, settled)
    return result
  }
}

// A window of 0 still gathers the appends made in the same turn of the event loop.
function after(ms: number, callback: () => void): () => void {
  if (ms === 0) {
    const immediate = setImmediate(callback)
    return () => clearImmediate(immediate)
  }
  const timer = setTimeout(callback, ms)
  return () => clearTimeout(timer)
}

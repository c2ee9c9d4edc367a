const ignore = () => {}

/**
 * Runs a task on request so that every request is covered by a run that started after it was
 * made: requests that arrive while a run is going share the next one. That is what an fsync of a
 * directory needs (a name created before the fsync started is durable when it ends).
 */
export class SharedRun {
  readonly #task: () => Promise<void>
  #running: Promise<void> | undefined
  #next: Promise<void> | undefined

  constructor(task: () => Promise<void>) {
    this.#task = task
  }

  request(): Promise<void> {
    if (this.#next) return this.#next
    if (!this.#running) return this.#start()
    const next = this.#running.then(ignore, ignore).then(() => {
      this.#next = undefined
      return this.#start()
    })
    this.#next = next
    return next
  }

  #start(): Promise<void> {
    const run = this.#task().finally(() => {
      if (this.#running === run) this.#running = undefined
    })
    this.#running = run
    return run
  }
}

/**
 * Runs sends in the order they were asked for, holding them behind barriers (a subscription
 * being set up) while any is in place. With nothing held a send runs at once: ioredis keeps the
 * order of commands on one connection.
 */
export class OrderedSender {
  #tail: Promise<void> = Promise.resolve()
  #queued = 0

  send(run: () => void): void {
    if (this.#queued === 0) run()
    else this.#enqueue(async () => run())
  }

  /** Holds every later send until `until` settles. */
  barrier(until: Promise<unknown>): void {
    this.#enqueue(() => until.then(noop, noop))
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queued++
    this.#tail = this.#tail
      .then(step)
      .catch(noop)
      .finally(() => {
        this.#queued--
      })
  }
}

function noop(): void {}

import type { DocId } from "../types.js"

/**
 * Runs storage operations one at a time per document, in the order they were asked for, so a
 * write never overtakes a load and a removal never lands before the write it follows.
 */
export class StorageQueue {
  readonly #tails = new Map<DocId, Promise<void>>()

  run(docId: DocId, operation: () => Promise<void>): void {
    const previous = this.#tails.get(docId) ?? Promise.resolve()
    const tail = previous.then(operation, operation).catch(() => {})
    this.#tails.set(docId, tail)
    void tail.then(() => {
      if (this.#tails.get(docId) === tail) this.#tails.delete(docId)
    })
  }

  /** Resolves once every operation asked for so far has finished. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values())
  }
}

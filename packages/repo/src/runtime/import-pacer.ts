import type { DocId } from "../types.js"

/** After an import, a document rests this many times as long as the import took. */
const REST_FACTOR = 4
/**
 * Rests shorter than this are skipped: imports under 10 ms never make the next one wait. A
 * healthy import takes well under a millisecond; this leaves GC pauses and JIT warm-up alone
 * and catches only imports that replay history.
 */
const MIN_REST_MS = 40
/** However slow an import was, what arrives after it waits no longer than this. */
const MAX_REST_MS = 500

/**
 * Paces the imports of each document by what they cost.
 *
 * Loro imports into a document with state by replaying its history from the newest version
 * that every later change descends from. When edits keep crossing in flight (many writers and
 * links slower than the gap between edits) no such version comes, and each import replays more
 * than the one before: 20 writers whose updates arrive one edit late cost 4 ms per import by
 * the 200th edit and 27 ms by the 800th (loro-crdt 1.17.1). One import of many updates replays
 * once, so after a slow import the document rests and what arrives meanwhile is imported in one
 * batch: imports then take about a fifth of the time at most, instead of falling ever further
 * behind. Cheap imports, the common case and every relay's, never wait.
 */
export class ImportPacer {
  readonly #restUntil = new Map<DocId, number>()

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Milliseconds until the document may import again: 0 when it may now. */
  wait(docId: DocId): number {
    const until = this.#restUntil.get(docId)
    if (until === undefined) return 0
    const wait = until - this.now()
    if (wait > 0) return wait
    this.#restUntil.delete(docId)
    return 0
  }

  /** Records that importing into the document took `ms` milliseconds, ending now. */
  took(docId: DocId, ms: number): void {
    const rest = Math.min(ms * REST_FACTOR, MAX_REST_MS)
    if (rest < MIN_REST_MS) this.#restUntil.delete(docId)
    else this.#restUntil.set(docId, this.now() + rest)
  }

  forget(docId: DocId): void {
    this.#restUntil.delete(docId)
  }
}

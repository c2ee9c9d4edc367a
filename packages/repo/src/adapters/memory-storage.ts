import type { DocId } from "../types.js"
import type { StorageAdapter, StoredDoc } from "./storage.js"

/** Storage in a `Map`: for tests, examples and peers that must not touch disk. */
export class MemoryStorage implements StorageAdapter {
  readonly #docs = new Map<DocId, StoredDoc>()

  async load(docId: DocId): Promise<StoredDoc | undefined> {
    const stored = this.#docs.get(docId)
    return stored && { snapshot: stored.snapshot, updates: [...stored.updates] }
  }

  async append(docId: DocId, update: Uint8Array): Promise<void> {
    const stored = this.#docs.get(docId)
    if (stored) stored.updates.push(update.slice())
    else this.#docs.set(docId, { updates: [update.slice()] })
  }

  async compact(docId: DocId, snapshot: Uint8Array): Promise<void> {
    this.#docs.set(docId, { snapshot: snapshot.slice(), updates: [] })
  }

  async remove(docId: DocId): Promise<void> {
    this.#docs.delete(docId)
  }

  async list(): Promise<DocId[]> {
    return [...this.#docs.keys()]
  }
}

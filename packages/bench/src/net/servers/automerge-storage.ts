import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo"

/** automerge-repo's storage interface over a Map: the in-memory store of the sync server. */
export class MemoryStorageAdapter implements StorageAdapterInterface {
  readonly #data = new Map<string, { key: StorageKey; data: Uint8Array }>()

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    return this.#data.get(path(key))?.data
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    this.#data.set(path(key), { key, data })
  }

  async remove(key: StorageKey): Promise<void> {
    this.#data.delete(path(key))
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const start = path(prefix)
    const out: Chunk[] = []
    for (const [id, chunk] of this.#data)
      if (id.startsWith(start)) out.push({ key: chunk.key, data: chunk.data })
    return out
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    const start = path(prefix)
    for (const id of [...this.#data.keys()]) if (id.startsWith(start)) this.#data.delete(id)
  }
}

function path(key: StorageKey): string {
  return `${key.join("\u0000")}\u0000`
}

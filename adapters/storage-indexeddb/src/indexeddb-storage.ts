import type { DocId, StorageAdapter, StoredDoc } from "@tandem/repo"
import { type Chunk, type ChunkKey, docRange, pastDoc } from "./chunk-keys.js"
import { committed, requestResult, storageFailed } from "./idb-request.js"

const CHUNKS = "chunks"
const SCHEMA_VERSION = 1

export interface IndexedDbStorageOptions {
  /** Name of the IndexedDB database (default `"tandem"`). One database can serve one repo per tab. */
  database?: string
  /**
   * `"strict"` (default) resolves a write only once the browser flushed it to disk, so `durable`
   * is honest; `"relaxed"` is faster and may lose the last writes if the machine loses power.
   */
  durability?: "strict" | "relaxed"
  /** The IndexedDB factory: `globalThis.indexedDB` by default. */
  indexedDB?: IDBFactory
}

/**
 * Tandem documents in IndexedDB: one record per snapshot or update, keyed by document and order.
 *
 * Several tabs may open the same database. A compaction removes only the chunks this storage
 * wrote or loaded (the ones its repo's document holds), so a tab never drops another tab's
 * edits it has not seen; the other tab's chunks are imported again on load, which is harmless.
 */
export class IndexedDbStorage implements StorageAdapter {
  readonly durable: boolean
  readonly #db: IDBDatabase
  readonly #durability: IDBTransactionDurability
  /** Per document, the seqs of chunks this storage's repo holds: the ones a compaction replaces. */
  readonly #held = new Map<DocId, Set<number>>()
  #closedReason: string | null = null

  private constructor(db: IDBDatabase, durability: IDBTransactionDurability) {
    this.#db = db
    this.#durability = durability
    this.durable = durability === "strict"
    // Another tab upgrading or deleting the database waits for every open connection to close.
    db.onversionchange = () => this.#shut("another tab upgraded or deleted the database")
    db.onclose = () => this.#shut("the browser closed the database (storage cleared?)")
  }

  /** Opens (creating if needed) the database. */
  static async open(options: IndexedDbStorageOptions = {}): Promise<IndexedDbStorage> {
    const factory = options.indexedDB ?? globalThis.indexedDB
    const name = options.database ?? "tandem"
    if (!factory) throw storageFailed("open", undefined, new Error("this environment has no IndexedDB"))
    const request = factory.open(name, SCHEMA_VERSION)
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(CHUNKS)) request.result.createObjectStore(CHUNKS)
    }
    try {
      const db = await requestResult(request)
      return new IndexedDbStorage(db, options.durability ?? "strict")
    } catch (error) {
      throw storageFailed(`open database ${JSON.stringify(name)}`, undefined, error)
    }
  }

  /** Deletes a whole database (every document in it). Close the storages using it first. */
  static async deleteDatabase(
    database = "tandem",
    factory: IDBFactory = globalThis.indexedDB,
  ): Promise<void> {
    try {
      await requestResult(factory.deleteDatabase(database))
    } catch (error) {
      throw storageFailed(`delete database ${JSON.stringify(database)}`, undefined, error)
    }
  }

  async load(docId: DocId): Promise<StoredDoc | undefined> {
    const [keys, chunks] = await this.#run("load", docId, "readonly", (store) =>
      Promise.all([
        requestResult(store.getAllKeys(docRange(docId))) as Promise<ChunkKey[]>,
        requestResult(store.getAll(docRange(docId))) as Promise<Chunk[]>,
      ]),
    )
    const held = this.#heldFor(docId)
    for (const [, seq] of keys) held.add(seq)
    if (chunks.length === 0) return undefined
    // Other tabs may have left snapshots of their own: the newest is the snapshot, the rest
    // import as updates (Loro imports a snapshot wherever an update is accepted).
    const newest = lastSnapshot(chunks)
    const updates = chunks.filter((_, index) => index !== newest).map((chunk) => chunk.bytes)
    return newest === -1 ? { updates } : { snapshot: chunks[newest]?.bytes, updates }
  }

  async append(docId: DocId, update: Uint8Array): Promise<void> {
    const seq = await this.#run("append to", docId, "readwrite", (store) =>
      this.#add(store, docId, { kind: "update", bytes: update.slice() }),
    )
    this.#heldFor(docId).add(seq)
  }

  async compact(docId: DocId, snapshot: Uint8Array): Promise<void> {
    const replaced = [...this.#heldFor(docId)]
    const seq = await this.#run("compact", docId, "readwrite", (store) => {
      for (const old of replaced) store.delete([docId, old])
      return this.#add(store, docId, { kind: "snapshot", bytes: snapshot.slice() })
    })
    const held = this.#heldFor(docId)
    for (const old of replaced) held.delete(old)
    held.add(seq)
  }

  async remove(docId: DocId): Promise<void> {
    await this.#run("remove", docId, "readwrite", (store) => requestResult(store.delete(docRange(docId))))
    this.#held.delete(docId)
  }

  async list(): Promise<DocId[]> {
    return this.#run("list documents", undefined, "readonly", (store) => {
      const ids: DocId[] = []
      const cursor = store.openKeyCursor()
      return new Promise<DocId[]>((resolve, reject) => {
        cursor.onerror = () => reject(cursor.error)
        cursor.onsuccess = () => {
          const at = cursor.result
          if (!at) return resolve(ids)
          const [docId] = at.key as ChunkKey
          ids.push(docId)
          at.continue(pastDoc(docId))
        }
      })
    })
  }

  async close(): Promise<void> {
    if (this.#closedReason) return
    this.#shut("it was closed")
  }

  #shut(reason: string): void {
    if (this.#closedReason) return
    this.#closedReason = reason
    this.#db.close()
  }

  #heldFor(docId: DocId): Set<number> {
    let held = this.#held.get(docId)
    if (!held) {
      held = new Set()
      this.#held.set(docId, held)
    }
    return held
  }

  /** Adds a chunk after the document's last one, in the same transaction; resolves with its seq. */
  #add(store: IDBObjectStore, docId: DocId, chunk: Chunk): Promise<number> {
    return new Promise((resolve, reject) => {
      const last = store.openKeyCursor(docRange(docId), "prev")
      last.onerror = () => reject(last.error)
      last.onsuccess = () => {
        const seq = last.result ? (last.result.key as ChunkKey)[1] + 1 : 1
        store.add(chunk, [docId, seq])
        resolve(seq)
      }
    })
  }

  /** Runs `work` in one transaction and resolves with its result once the transaction committed. */
  async #run<T>(
    what: string,
    docId: DocId | undefined,
    mode: IDBTransactionMode,
    work: (store: IDBObjectStore) => Promise<T>,
  ): Promise<T> {
    if (this.#closedReason) {
      throw storageFailed(what, docId, new Error(`the storage is closed: ${this.#closedReason}`))
    }
    try {
      const transaction = this.#db.transaction(CHUNKS, mode, { durability: this.#durability })
      const done = committed(transaction)
      const result = work(transaction.objectStore(CHUNKS))
      const [value] = await Promise.all([result, done])
      return value
    } catch (error) {
      throw storageFailed(what, docId, error)
    }
  }
}

function lastSnapshot(chunks: Chunk[]): number {
  for (let index = chunks.length - 1; index >= 0; index--) {
    if (chunks[index]?.kind === "snapshot") return index
  }
  return -1
}

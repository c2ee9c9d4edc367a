import type { DocId } from "../types.js"

/** What storage holds for one document: at most one snapshot, then updates in append order. */
export interface StoredDoc {
  snapshot?: Uint8Array
  updates: Uint8Array[]
}

/**
 * Persists documents, and only documents: rooms and presence never reach storage.
 *
 * The repo serializes calls per document: it never has two calls for the same document in
 * flight, so an adapter needs no locking of its own for one document.
 */
export interface StorageAdapter {
  /**
   * What this storage writes survives a crash of the process (files fsynced, IndexedDB). A relay
   * acknowledges client updates only when its storage is durable.
   */
  readonly durable?: boolean
  /** Everything stored for the document, or `undefined` if nothing is. */
  load(docId: DocId): Promise<StoredDoc | undefined>
  /** Appends an incremental update. Resolves once it is durable. */
  append(docId: DocId, update: Uint8Array): Promise<void>
  /**
   * Stores a snapshot that replaces the snapshot and every update appended before this call.
   * After a crash, `load` returns the old chunks, or the new snapshot (possibly still followed by
   * some of the updates it replaced: importing updates a document already holds changes nothing).
   */
  compact(docId: DocId, snapshot: Uint8Array): Promise<void>
  /** Removes every trace of the document. Removing an unknown document is not an error. */
  remove(docId: DocId): Promise<void>
  /** Ids of every stored document. */
  list(): Promise<DocId[]>
  /** Releases files, handles and timers. Safe to call more than once. */
  close?(): Promise<void>
}

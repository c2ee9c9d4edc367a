import type { DocId } from "@tandem/repo"

/**
 * Every chunk (snapshot or update) of a document is one record keyed `[docId, seq]`, `seq`
 * counting up per document. Array keys sort element by element and a shorter array sorts first,
 * and any array sorts after any number, so `[docId]` … `[docId, []]` spans exactly one document.
 */
export type ChunkKey = [DocId, number]

export interface Chunk {
  kind: "snapshot" | "update"
  bytes: Uint8Array
}

export function docRange(docId: DocId): IDBKeyRange {
  return IDBKeyRange.bound([docId], [docId, []])
}

/** The key just past every chunk of `docId`: a cursor continued to it lands on the next document. */
export function pastDoc(docId: DocId): IDBValidKey {
  return [docId, []]
}

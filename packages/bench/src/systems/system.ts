import type { LoroDoc } from "loro-crdt"

/** A repo that holds a document and serves it to peers that join its bridge. */
export interface Source {
  doc: LoroDoc
  /** A fresh repo on the same bridge, asking for the document: its (still empty) LoroDoc. */
  join(): LoroDoc
  close(): Promise<void>
}

/** A relaying hub with one writer and some observers, each on a bridge of its own to the hub. */
export interface Hub {
  writer: LoroDoc
  observers: LoroDoc[]
  close(): Promise<void>
}

/**
 * What a scenario needs from a sync system. Scenarios touch only LoroDocs, so both systems do
 * the same edits and are checked the same way.
 */
export interface System {
  name: string
  source(docId: string, snapshot: Uint8Array): Promise<Source>
  hub(docId: string, observers: number): Promise<Hub>
}

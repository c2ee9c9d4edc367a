import { decodeImportBlobMeta, LoroDoc, VersionVector } from "loro-crdt"
import type { StoredDoc } from "../adapters/storage.js"
import { randomLoroPeerId } from "../ids.js"
import type { DocId, PeerId } from "../types.js"

interface Entry {
  doc: LoroDoc
  unsubscribe: () => void
  /** What storage holds, or null when it must be rewritten from a snapshot. */
  savedVersion: VersionVector | null
  /** Some imported change waits for dependencies: relays must send what an import released. */
  hasPending: boolean
  /** The whole document as last exported, reused while it has not changed (join storms). */
  whole: { version: Uint8Array; bytes: Uint8Array } | null
  /** How far durable peers acknowledged the document, per Loro peer. */
  acked: Map<string, number>
  /** The application listens for its changes. */
  watched: boolean
}

export interface ImportOutcome {
  applied: boolean
  pending: boolean
  invalid: boolean
  /** What to pass on to other peers, when something new was applied. */
  relay: Uint8Array | null
}

export interface LoadOutcome {
  snapshotBytes: number
  updateBytes: number
  mergedUnsaved: boolean
}

/**
 * The Loro documents of one repo and everything the runtime does with them: import, export,
 * versions. Each document gets its own random Loro peer id, never derived from the repo's
 * `peerId`, so two repos (or two tabs given the same `peerId`) never write under one id.
 *
 * A document kept only for peers (a relay's) is a detached Loro document: imports append to its
 * history and never compute its state. With edits that keep arriving concurrently (many writers,
 * or readers behind), Loro's state update costs grow with the history (10 ms and more per small
 * update after a few hundred, measured); the append costs about 20 µs. Such a document is sent
 * whole as an update (no state needed, about half a snapshot's bytes) and is stored that way too.
 * The application's documents (`open`) are attached: they have state and events.
 *
 * Peers are always sent the whole history as one update, never a snapshot, even from an attached
 * document: a peer importing into a document that someone watches (an application listening for
 * changes) pays Loro's event for a snapshot by replaying the history through its diff calculator.
 * Measured (loro-crdt 1.17.1, one text, watched): 1,000 appended 4 KiB paragraphs, 113 ms as a
 * snapshot against 63 ms as an update; 20,000 edits with deletions, 761 ms against 119 ms.
 */
export class DocStore {
  readonly #entries = new Map<DocId, Entry>()
  /** The peer whose bytes are being imported, so change events can name where they came from. */
  importingFrom: PeerId | undefined

  constructor(private readonly onLocalUpdate: (docId: DocId, data: Uint8Array) => void) {}

  /** Makes sure the document is held, detached (for peers) when it is new. */
  ensure(docId: DocId): void {
    this.#entry(docId)
  }

  /**
   * The application's document, with its state. One held so far for peers only is rebuilt from
   * its history in a new attached document: Loro's own way back (`checkoutToLatest`) from an empty
   * state took minutes for a 4 MB text where a fresh import takes about 40 ms.
   */
  open(docId: DocId): LoroDoc {
    const existing = this.#entries.get(docId)
    if (!existing) return this.#entry(docId, true).doc
    if (!existing.doc.isDetached()) return existing.doc
    const held = existing.doc
    const doc = this.#newDoc(true)
    doc.import(held.export({ mode: "update" }))
    const pending = held.exportPendingUpdates()
    if (pending) doc.import(pending)
    existing.unsubscribe()
    existing.doc = doc
    existing.unsubscribe = doc.subscribeLocalUpdates((data) => this.onLocalUpdate(docId, data))
    return doc
  }

  #newDoc(attached: boolean): LoroDoc {
    const doc = new LoroDoc()
    doc.setPeerId(randomLoroPeerId())
    if (!attached) doc.detach()
    return doc
  }

  #entry(docId: DocId, attached = false): Entry {
    const existing = this.#entries.get(docId)
    if (existing) return existing
    const doc = this.#newDoc(attached)
    const unsubscribe = doc.subscribeLocalUpdates((data) => this.onLocalUpdate(docId, data))
    const entry: Entry = {
      doc,
      unsubscribe,
      savedVersion: null,
      hasPending: false,
      whole: null,
      acked: new Map(),
      watched: false,
    }
    this.#entries.set(docId, entry)
    return entry
  }

  /** Records that the application listens for the document's changes. */
  watching(docId: DocId): void {
    const entry = this.#entries.get(docId)
    if (entry) entry.watched = true
  }

  get(docId: DocId): LoroDoc | undefined {
    return this.#entries.get(docId)?.doc
  }

  has(docId: DocId): boolean {
    return this.#entries.has(docId)
  }

  drop(docId: DocId): void {
    const entry = this.#entries.get(docId)
    if (!entry) return
    entry.unsubscribe()
    this.#entries.delete(docId)
  }

  dropAll(): void {
    for (const docId of [...this.#entries.keys()]) this.drop(docId)
  }

  /** The version storage holds, encoded, as an acknowledgement carries it. */
  savedVersion(docId: DocId): Uint8Array | null {
    return this.#entries.get(docId)?.savedVersion?.encode() ?? null
  }

  /** Records that a durable peer wrote the document up to `version`. False if the bytes are garbage. */
  recordAck(docId: DocId, version: Uint8Array): boolean {
    const entry = this.#entries.get(docId)
    const acked = decodeVersion(version)
    if (!entry || !acked) return false
    for (const [peer, counter] of acked.toJSON()) {
      if (counter > (entry.acked.get(peer) ?? 0)) entry.acked.set(peer, counter)
    }
    return true
  }

  /** Every change made in this repo has been acknowledged by a durable peer. */
  acknowledged(docId: DocId): boolean {
    const entry = this.#entries.get(docId)
    if (!entry) return true
    const own = entry.doc.peerIdStr
    const made = entry.doc.oplogVersion().get(own) ?? 0
    return made <= (entry.acked.get(own) ?? 0)
  }

  version(docId: DocId): Uint8Array {
    return this.#entry(docId).doc.oplogVersion().encode()
  }

  /** The answer to a sync request: the whole history for a peer with nothing, else what it lacks. */
  answer(docId: DocId, theirVersion: Uint8Array): { version: Uint8Array; data: Uint8Array } | null {
    const entry = this.#entry(docId)
    const theirs = decodeVersion(theirVersion)
    if (!theirs) return null
    const version = entry.doc.oplogVersion().encode()
    if (theirs.length() > 0) {
      return { version, data: entry.doc.export({ mode: "update", from: theirs }) }
    }
    return { version, data: this.#wholeHistory(entry, version) }
  }

  /** The whole history as one update, exported once per version (join storms ask for it alike). */
  #wholeHistory(entry: Entry, version: Uint8Array): Uint8Array {
    if (!entry.whole || !sameBytes(entry.whole.version, version)) {
      entry.whole = { version, bytes: entry.doc.export({ mode: "update" }) }
    }
    return entry.whole.bytes
  }

  /** What a peer at `theirVersion` lacks, or null if it lacks nothing (or the version is garbage). */
  missing(docId: DocId, theirVersion: Uint8Array | null): Uint8Array | null {
    const entry = this.#entry(docId)
    const ours = entry.doc.oplogVersion()
    if (ours.length() === 0) return null
    if (theirVersion === null) return this.#wholeHistory(entry, ours.encode())
    const theirs = decodeVersion(theirVersion)
    if (!theirs) return null
    const order = ours.compare(theirs)
    if (order === 0 || order === -1) return null
    return entry.doc.export({ mode: "update", from: theirs })
  }

  /**
   * Imports several updates in one Loro call: after concurrent edits, importing them one by one
   * costs a checkout per update (quadratic), one batch costs one. Bytes that are not a Loro update
   * are left out and reported by index. With `wantRelay`, `relay` holds everything the batch
   * brought: the update itself when it is the only one and released nothing pending (no export),
   * else an export since the version before.
   */
  importBatch(
    docId: DocId,
    chunks: readonly Uint8Array[],
    from: PeerId | undefined,
    wantRelay = true,
  ): ImportOutcome & { invalidAt: ReadonlySet<number> } {
    const entry = this.#entry(docId)
    const { doc } = entry
    const [only] = chunks.length === 1 ? chunks : []
    const hadPending = entry.hasPending
    const before = wantRelay && (only === undefined || hadPending) ? doc.oplogVersion() : null
    this.importingFrom = from
    let status: Imported
    const invalidAt = new Set<number>()
    try {
      status = importAll(doc, chunks, invalidAt)
    } catch {
      return { applied: false, pending: false, invalid: true, relay: null, invalidAt }
    } finally {
      this.importingFrom = undefined
    }
    const { applied, pending } = status
    if (pending) entry.hasPending = true
    else if (hadPending && doc.exportPendingUpdates() === undefined) entry.hasPending = false
    let relay: Uint8Array | null = null
    if (wantRelay && applied) relay = before ? doc.export({ mode: "update", from: before }) : (only ?? null)
    return { applied, pending, invalid: false, relay, invalidAt }
  }

  /** Imports what storage holds. Throws if storage holds bytes Loro cannot read. */
  load(docId: DocId, stored: StoredDoc | undefined): LoadOutcome {
    const entry = this.#entries.get(docId)
    if (!entry) return { snapshotBytes: 0, updateBytes: 0, mergedUnsaved: false }
    const mergedUnsaved = entry.doc.oplogVersion().length() > 0
    if (!stored) {
      entry.savedVersion = null
      return { snapshotBytes: 0, updateBytes: 0, mergedUnsaved }
    }
    const { snapshot } = stored
    const whole = snapshot && entry.watched && !entry.doc.isDetached() ? asUpdate(snapshot) : snapshot
    const chunks = whole ? [whole, ...stored.updates] : stored.updates
    if (chunks.length > 0) entry.doc.importBatch(chunks)
    entry.savedVersion = mergedUnsaved ? null : entry.doc.oplogVersion()
    return {
      snapshotBytes: stored.snapshot?.byteLength ?? 0,
      updateBytes: stored.updates.reduce((sum, update) => sum + update.byteLength, 0),
      mergedUnsaved,
    }
  }

  /**
   * Bytes to write: a snapshot when compacting (or when storage's state is unknown), else the
   * updates since the last write. `commit` is called once storage has them.
   */
  exportForSave(
    docId: DocId,
    compact: boolean,
  ): { bytes: Uint8Array; compacted: boolean; commit: () => void } | null {
    const entry = this.#entries.get(docId)
    if (!entry) return null
    const { doc } = entry
    const version = doc.oplogVersion()
    const commit = () => {
      entry.savedVersion = version
    }
    if (compact || entry.savedVersion === null) {
      return { bytes: exportWhole(doc), compacted: true, commit }
    }
    const order = version.compare(entry.savedVersion)
    if (order === 0) return { bytes: new Uint8Array(0), compacted: false, commit }
    return { bytes: doc.export({ mode: "update", from: entry.savedVersion }), compacted: false, commit }
  }
}

/**
 * What storage keeps of a whole document: a snapshot, which opens without replaying the history
 * (a detached document has no state for one, so its history as one update).
 */
function exportWhole(doc: LoroDoc): Uint8Array {
  return doc.export({ mode: doc.isDetached() ? "update" : "snapshot" })
}

/**
 * A snapshot as the same history in one update, for a document the application watches: Loro
 * builds the event for a snapshot by replaying the history through its diff calculator, and for an
 * update by applying it in order. A snapshot loads into a document of its own without replaying
 * anything, so the detour costs little. Measured (loro-crdt 1.17.1, one text, watched): after
 * 20,000 edits with deletions, 761 ms for the snapshot against 239 ms this way; after 100,000,
 * 8.0 s against 1.5 s. Bytes that are already an update, or not Loro's, pass as they are.
 */
function asUpdate(bytes: Uint8Array): Uint8Array {
  if (blobMode(bytes, false) !== "snapshot") return bytes
  const scratch = new LoroDoc()
  try {
    scratch.import(bytes)
    return scratch.export({ mode: "update" })
  } finally {
    scratch.free()
  }
}

function decodeVersion(bytes: Uint8Array): VersionVector | null {
  try {
    return VersionVector.decode(bytes)
  } catch {
    return null
  }
}

/** What an import did: something new applied, something still waiting for what it depends on. */
interface Imported {
  applied: boolean
  pending: boolean
}

function imported(status: ReturnType<LoroDoc["import"]>): Imported {
  return { applied: status.success.size > 0, pending: (status.pending?.size ?? 0) > 0 }
}

/**
 * Into a detached document each update is imported on its own (about 20 µs, and Loro checks each
 * one's checksum), so garbage is refused by itself. An attached document imports the batch in
 * one call: one by one would compute its state once per update (a checkout each, quadratic after
 * divergence). The batch is tried whole (Loro applies nothing when one of its updates is garbage,
 * and checking each first costs 28 µs apiece); only when it fails is each one checked and the
 * valid ones imported without the others. One update alone goes through `import` either way
 * (about 40% faster than a batch of one with 20 peers).
 */
function importAll(doc: LoroDoc, chunks: readonly Uint8Array[], invalidAt: Set<number>): Imported {
  if (chunks.length === 0) return { applied: false, pending: false }
  if (chunks.length === 1) return imported(doc.import(chunks[0] as Uint8Array))
  if (doc.isDetached()) return importEach(doc, chunks, invalidAt)
  try {
    return imported(doc.importBatch(chunks as Uint8Array[]))
  } catch (error) {
    const valid = chunks.filter((chunk, index) => {
      if (isLoroBlob(chunk)) return true
      invalidAt.add(index)
      return false
    })
    if (invalidAt.size === 0) throw error
    return importAll(doc, valid, new Set())
  }
}

function importEach(doc: LoroDoc, chunks: readonly Uint8Array[], invalidAt: Set<number>): Imported {
  let applied = false
  let pending = false
  for (const [index, chunk] of chunks.entries()) {
    try {
      const outcome = imported(doc.import(chunk))
      applied ||= outcome.applied
      pending ||= outcome.pending
    } catch {
      invalidAt.add(index)
    }
  }
  // A later update may have released what an earlier one left pending.
  return { applied, pending: pending && doc.exportPendingUpdates() !== undefined }
}

function isLoroBlob(bytes: Uint8Array): boolean {
  return blobMode(bytes, true) !== null
}

/** What kind of Loro blob the bytes are (`snapshot`, `update`, …), or null if they are none. */
function blobMode(bytes: Uint8Array, checksum: boolean): string | null {
  try {
    return decodeImportBlobMeta(bytes, checksum).mode
  } catch {
    return null
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

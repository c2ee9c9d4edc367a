import type { DocId, StorageAdapter, StoredDoc } from "@tandem/repo"

/** Framing of one record in an FsStorage file: length and CRC-32 (see its README). */
const RECORD_BYTES = 8
/** A file header without the id: magic, format version, id length, CRC-32. */
const HEADER_BYTES = 16

/** What a repo asked its storage to write, in FsStorage's file bytes. */
export interface WriteCounts {
  appends: number
  compactions: number
  /** Update bytes the repo appended, and snapshot bytes it compacted to. */
  appendedPayload: number
  snapshotPayload: number
  /** Bytes FsStorage writes for them: records, a header for each new log, whole snapshot files. */
  fileBytes: number
}

/**
 * Passes every call on to the storage beneath and counts the bytes it writes, computed from
 * FsStorage's documented format: each append is a record (8 bytes + payload), a log's first
 * append also writes its header (16 bytes + the id), and each compaction writes a whole
 * snapshot file (header + record) and deletes the log. `expectedFiles` gives what the files of
 * a document should measure now, to check this arithmetic against the disk.
 */
export class CountingStorage implements StorageAdapter {
  readonly counts: WriteCounts = {
    appends: 0,
    compactions: 0,
    appendedPayload: 0,
    snapshotPayload: 0,
    fileBytes: 0,
  }
  readonly #files = new Map<DocId, { log: number; snapshot: number }>()

  constructor(private readonly inner: StorageAdapter) {}

  get durable(): boolean | undefined {
    return this.inner.durable
  }

  load(docId: DocId): Promise<StoredDoc | undefined> {
    return this.inner.load(docId)
  }

  async append(docId: DocId, update: Uint8Array): Promise<void> {
    await this.inner.append(docId, update)
    const files = this.#filesOf(docId)
    const bytes = (files.log === 0 ? header(docId) : 0) + RECORD_BYTES + update.byteLength
    files.log += bytes
    this.counts.appends++
    this.counts.appendedPayload += update.byteLength
    this.counts.fileBytes += bytes
  }

  async compact(docId: DocId, snapshot: Uint8Array): Promise<void> {
    await this.inner.compact(docId, snapshot)
    const files = this.#filesOf(docId)
    files.snapshot = header(docId) + RECORD_BYTES + snapshot.byteLength
    files.log = 0
    this.counts.compactions++
    this.counts.snapshotPayload += snapshot.byteLength
    this.counts.fileBytes += files.snapshot
  }

  remove(docId: DocId): Promise<void> {
    this.#files.delete(docId)
    return this.inner.remove(docId)
  }

  list(): Promise<DocId[]> {
    return this.inner.list()
  }

  async close(): Promise<void> {
    await this.inner.close?.()
  }

  /** The sizes the document's log and snapshot files should have now (0: no file). */
  expectedFiles(docId: DocId): { log: number; snapshot: number } {
    return { ...this.#filesOf(docId) }
  }

  #filesOf(docId: DocId): { log: number; snapshot: number } {
    let files = this.#files.get(docId)
    if (!files) {
      files = { log: 0, snapshot: 0 }
      this.#files.set(docId, files)
    }
    return files
  }
}

function header(docId: DocId): number {
  return HEADER_BYTES + Buffer.byteLength(docId, "utf8")
}

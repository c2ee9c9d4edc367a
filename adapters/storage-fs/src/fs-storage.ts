import { mkdir, readdir } from "node:fs/promises"
import { dirname, join, resolve } from "node:path"
import { getLogger } from "@logtape/logtape"
import { type DocId, type StorageAdapter, type StoredDoc, TandemError } from "@tandem/repo"
import { DirectoryLock } from "./directory-lock.js"
import { Disk } from "./disk.js"
import { type DocFiles, docFiles, docKey, storedKeys } from "./doc-files.js"
import { GroupCommitQueue } from "./group-commit-queue.js"
import { appendToLog, dropLog, recoverLog } from "./log-file.js"
import { encodeRecord } from "./record.js"
import { encodeSnapshot, readSnapshot, writeSnapshot } from "./snapshot-file.js"
import { readStoredId } from "./stored-id.js"

const log = getLogger(["tandem", "storage-fs"])

const DOCS_DIR = "docs"
// Appends that arrive while an fsync runs share the next one anyway; a window only adds latency
// where fsync is fast (measured here: 0.1–0.2 ms, and a 2 ms window made a lone writer 25× slower).
const DEFAULT_GROUP_COMMIT_MS = 0
/** Documents whose state is kept between operations; idle ones beyond this are forgotten. */
const REMEMBERED_DOCS = 4096
/** Headers read at once by `list`, to stay far from the limit on open files. */
const LIST_CONCURRENCY = 64

export interface FsStorageOptions {
  /** The directory that holds the documents; created if missing. One `FsStorage` at a time uses it. */
  dir: string
  /**
   * How long the first of a group of appends waits for others to share its fsync, in ms
   * (default 0). Even with 0, appends made in the same turn of the event loop, and those made
   * while an fsync runs, share one; a window helps only where fsync itself is slow.
   */
  groupCommitMs?: number
}

export interface FsStorageStats {
  /** Appends acknowledged (durable). */
  appends: number
  /** fsyncs of files and directories, for all operations. */
  fsyncs: number
}

interface DocState {
  docId: DocId
  files: DocFiles
  queue: GroupCommitQueue
  /** Where the intact log ends (0: no log), or `undefined` until the log has been read. */
  logLength: number | undefined
}

/**
 * Stores documents in a directory, durably: every operation resolves once it survives a crash
 * (fsync). Each document has an append-only log of checksummed records and at most one
 * snapshot; see the README for the format, the guarantees and how damage is handled.
 */
export class FsStorage implements StorageAdapter {
  /** Writes are fsynced before they are acknowledged, so a relay may acknowledge them too. */
  readonly durable = true
  readonly dir: string
  readonly #docsDir: string
  readonly #groupCommitMs: number
  readonly #lock: DirectoryLock
  readonly #disk: Disk
  /** Least recently used first. */
  readonly #docs = new Map<string, DocState>()
  #appends = 0
  #closing: Promise<void> | undefined

  private constructor(dir: string, groupCommitMs: number, lock: DirectoryLock, disk: Disk) {
    this.dir = dir
    this.#docsDir = join(dir, DOCS_DIR)
    this.#groupCommitMs = groupCommitMs
    this.#lock = lock
    this.#disk = disk
  }

  /** Opens (creating it if needed) and locks the directory. */
  static async open(options: FsStorageOptions): Promise<FsStorage> {
    const groupCommitMs = options.groupCommitMs ?? DEFAULT_GROUP_COMMIT_MS
    if (!Number.isFinite(groupCommitMs) || groupCommitMs < 0) {
      throw new RangeError(`groupCommitMs must be a number of milliseconds, 0 or more; got ${groupCommitMs}`)
    }
    const dir = resolve(options.dir)
    const disk = new Disk()
    if (await mkdir(dir, { recursive: true })) await disk.syncDirectory(dirname(dir))
    const lock = await DirectoryLock.acquire(dir)
    try {
      if (await mkdir(join(dir, DOCS_DIR), { recursive: true })) await disk.syncDirectory(dir)
    } catch (error) {
      await lock.release()
      throw error
    }
    return new FsStorage(dir, groupCommitMs, lock, disk)
  }

  get stats(): FsStorageStats {
    return { appends: this.#appends, fsyncs: this.#disk.fsyncs }
  }

  async load(docId: DocId): Promise<StoredDoc | undefined> {
    const doc = this.#doc(docId)
    return doc.queue.run(async () => {
      const snapshot = await readSnapshot(this.#disk, doc.files, docId)
      const { updates, length } = await recoverLog(this.#disk, doc.files.log, docId)
      doc.logLength = length
      if (snapshot) return { snapshot, updates }
      return updates.length > 0 ? { updates } : undefined
    })
  }

  async append(docId: DocId, update: Uint8Array): Promise<void> {
    await this.#doc(docId).queue.append(encodeRecord(update))
    this.#appends++
  }

  async compact(docId: DocId, snapshot: Uint8Array): Promise<void> {
    const doc = this.#doc(docId)
    // Encoded now: the caller may reuse its buffer before the write's turn comes.
    const file = encodeSnapshot(docId, snapshot)
    await doc.queue.run(async () => {
      await writeSnapshot(this.#disk, doc.files, file)
      // A crash here leaves the new snapshot beside log records it already contains. That is
      // harmless: `load` returns both, and importing Loro updates a document already has is a
      // no-op, so nothing is lost or applied twice.
      await dropLog(this.#disk, doc.files.log)
      doc.logLength = 0
    })
  }

  async remove(docId: DocId): Promise<void> {
    const doc = this.#doc(docId)
    await doc.queue.run(async () => {
      // The log goes first: a crash midway leaves the snapshot, an older but whole document,
      // never updates without the snapshot they build on.
      await dropLog(this.#disk, doc.files.log)
      doc.logLength = 0
      const removed = [
        await this.#disk.remove(doc.files.snapshot),
        await this.#disk.remove(doc.files.snapshotTemp),
      ]
      if (removed.includes(true)) await this.#disk.syncDirectory(this.#docsDir)
    })
  }

  async list(): Promise<DocId[]> {
    this.#assertOpen()
    const keys = [...storedKeys(await readdir(this.#docsDir))]
    const ids: DocId[] = []
    for (let start = 0; start < keys.length; start += LIST_CONCURRENCY) {
      const batch = keys.slice(start, start + LIST_CONCURRENCY)
      const found = await Promise.all(
        batch.map((key) => readStoredId(this.#disk, docFiles(this.#docsDir, key))),
      )
      for (const [index, id] of found.entries()) {
        if (id !== undefined) ids.push(id)
        else log.warn("skipping {key}: none of its files has an intact header", { key: batch[index] })
      }
    }
    return ids
  }

  /** Writes the appends still waiting for their group commit, then releases the directory. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#docs.values()].map((doc) => doc.queue.drain()))
      await this.#lock.release()
    })()
    return this.#closing
  }

  #doc(docId: DocId): DocState {
    this.#assertOpen()
    const key = docKey(docId)
    const doc = this.#docs.get(key) ?? this.#newDoc(docId, key)
    this.#docs.delete(key)
    this.#docs.set(key, doc)
    this.#forgetIdleDocs(key)
    return doc
  }

  #newDoc(docId: DocId, key: string): DocState {
    const doc: DocState = {
      docId,
      files: docFiles(this.#docsDir, key),
      logLength: undefined,
      queue: new GroupCommitQueue(this.#groupCommitMs, (records) => this.#writeRecords(doc, records)),
    }
    return doc
  }

  async #writeRecords(doc: DocState, records: Uint8Array[]): Promise<void> {
    try {
      // The first write since the log was last read must not land after a torn tail.
      const length = doc.logLength ?? (await recoverLog(this.#disk, doc.files.log, doc.docId)).length
      doc.logLength = await appendToLog(this.#disk, doc.files.log, doc.docId, length, records)
    } catch (error) {
      // How much reached the file is unknown: the next write reads the log again first.
      doc.logLength = undefined
      throw error
    }
  }

  // Forgetting costs a read of the log at the document's next append; remembering costs memory
  // for every document a long-running relay ever touched.
  #forgetIdleDocs(inUse: string): void {
    if (this.#docs.size <= REMEMBERED_DOCS) return
    for (const [key, doc] of this.#docs) {
      if (key !== inUse && doc.queue.idle) this.#docs.delete(key)
      if (this.#docs.size <= REMEMBERED_DOCS) return
    }
  }

  #assertOpen(): void {
    if (this.#closing) {
      throw new TandemError(
        "STORAGE_FAILED",
        `the FsStorage of ${this.dir} is closed; open it again to use it`,
      )
    }
  }
}

import type { DocId } from "@tandem/repo"
import type { Disk } from "./disk.js"
import type { DocFiles } from "./doc-files.js"
import { belongsElsewhere, corruptSnapshot, unsupportedFormat } from "./errors.js"
import { decodeHeader, encodeHeader, SNAPSHOT_MAGIC } from "./file-header.js"
import { encodeRecord, readRecord } from "./record.js"

/**
 * The document's snapshot, or `undefined` if it has none. A damaged snapshot throws: treating
 * it as missing would let the next compaction write over the only copy of the document.
 */
export async function readSnapshot(
  disk: Disk,
  files: DocFiles,
  docId: DocId,
): Promise<Uint8Array | undefined> {
  const bytes = await disk.read(files.snapshot)
  if (!bytes) return undefined
  const header = decodeHeader(bytes, SNAPSHOT_MAGIC)
  switch (header.kind) {
    case "torn":
    case "corrupt":
      throw corruptSnapshot(docId, "bad header")
    case "unsupported":
      throw unsupportedFormat("snapshot", docId, header.version)
  }
  if (header.docId !== docId) throw belongsElsewhere("snapshot", docId, header.docId)
  const record = readRecord(bytes, header.end)
  switch (record.kind) {
    case "torn":
      throw corruptSnapshot(docId, "truncated")
    case "corrupt":
      throw corruptSnapshot(docId, "checksum mismatch")
  }
  if (record.end !== bytes.byteLength) throw corruptSnapshot(docId, "unexpected bytes after its end")
  return record.payload
}

/** A snapshot file's bytes: a header and one record, like a log with a single entry. */
export function encodeSnapshot(docId: DocId, snapshot: Uint8Array): Uint8Array {
  return Buffer.concat([encodeHeader(SNAPSHOT_MAGIC, docId), encodeRecord(snapshot)])
}

/** Replaces the snapshot atomically (see `Disk.replace`). */
export async function writeSnapshot(disk: Disk, files: DocFiles, file: Uint8Array): Promise<void> {
  await disk.replace(files.snapshot, files.snapshotTemp, file)
}

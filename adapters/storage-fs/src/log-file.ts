import { dirname } from "node:path"
import { getLogger } from "@logtape/logtape"
import type { DocId } from "@tandem/repo"
import type { Disk } from "./disk.js"
import { belongsElsewhere, unsupportedFormat } from "./errors.js"
import { decodeHeader, encodeHeader, LOG_MAGIC } from "./file-header.js"
import { readRecord } from "./record.js"

const log = getLogger(["tandem", "storage-fs"])

export interface LogContents {
  updates: Uint8Array[]
  /** Where the intact part ends: the next record goes there. 0 means there is no log. */
  length: number
}

/**
 * Reads a document's log up to its first torn or corrupt record and cuts the file there, so the
 * next append lands after intact records and not after garbage. A crash mid-append leaves such a
 * tail, and that append was never acknowledged.
 */
export async function recoverLog(disk: Disk, path: string, docId: DocId): Promise<LogContents> {
  const bytes = await disk.read(path)
  if (!bytes) return { updates: [], length: 0 }
  const contents = parseLog(bytes, docId)
  if (contents.length < bytes.byteLength) {
    log.warn("cut {dropped} damaged bytes off the end of the log of {docId} (kept {kept} updates)", {
      dropped: bytes.byteLength - contents.length,
      docId,
      kept: contents.updates.length,
    })
    if (contents.length > 0) await disk.truncate(path, contents.length)
    else await dropLog(disk, path)
  }
  return contents
}

/**
 * Writes records at `length`, the end of the intact log, starting a new log with its header.
 * Resolves once they are durable.
 */
export async function appendToLog(
  disk: Disk,
  path: string,
  docId: DocId,
  length: number,
  records: Uint8Array[],
): Promise<number> {
  const isNew = length === 0
  const data = Buffer.concat(isNew ? [encodeHeader(LOG_MAGIC, docId), ...records] : records)
  await disk.writeAt(path, length, data)
  if (isNew) await disk.syncDirectory(dirname(path))
  return length + data.byteLength
}

/** Deletes the log, durably. */
export async function dropLog(disk: Disk, path: string): Promise<void> {
  if (await disk.remove(path)) await disk.syncDirectory(dirname(path))
}

function parseLog(bytes: Uint8Array, docId: DocId): LogContents {
  const header = decodeHeader(bytes, LOG_MAGIC)
  switch (header.kind) {
    case "torn":
    case "corrupt":
      return { updates: [], length: 0 }
    case "unsupported":
      throw unsupportedFormat("log", docId, header.version)
  }
  if (header.docId !== docId) throw belongsElsewhere("log", docId, header.docId)
  const updates: Uint8Array[] = []
  let offset = header.end
  while (offset < bytes.byteLength) {
    const record = readRecord(bytes, offset)
    if (record.kind !== "record") break
    updates.push(record.payload)
    offset = record.end
  }
  return { updates, length: offset }
}

import { crc32 } from "node:zlib"
import type { DocId } from "@tandem/repo"

/** What kind of file a header starts. */
export type Magic = "TLOG" | "TSNP"
export const LOG_MAGIC: Magic = "TLOG"
export const SNAPSHOT_MAGIC: Magic = "TSNP"

const FORMAT_VERSION = 1
/** Magic (4 bytes), format version (u32) and id length (u32): enough to know the header's length. */
export const HEADER_PREFIX_BYTES = 12
const CHECKSUM_BYTES = 4

export type HeaderRead =
  | { kind: "header"; docId: DocId; end: number }
  /** The bytes stop before the header does: the file's first write was cut short. */
  | { kind: "torn" }
  /** Wrong magic or checksum. */
  | { kind: "corrupt" }
  /** An intact header of a format this code does not know: never to be cut off as damage. */
  | { kind: "unsupported"; version: number }

/**
 * The start of every file of a document: magic, format version, and the document's id (UTF-8,
 * prefixed by its length), under a CRC-32. File names are hashes, so this is where `list` finds
 * the ids, and where `load` checks a file belongs to the document it was asked for.
 */
export function encodeHeader(magic: Magic, docId: DocId): Uint8Array {
  const id = Buffer.from(docId, "utf8")
  const header = new Uint8Array(HEADER_PREFIX_BYTES + id.byteLength + CHECKSUM_BYTES)
  const view = new DataView(header.buffer)
  header.set(Buffer.from(magic, "latin1"), 0)
  view.setUint32(4, FORMAT_VERSION)
  view.setUint32(8, id.byteLength)
  header.set(id, HEADER_PREFIX_BYTES)
  const checked = HEADER_PREFIX_BYTES + id.byteLength
  view.setUint32(checked, crc32(header.subarray(0, checked)))
  return header
}

/** The header's whole length, read from its first `HEADER_PREFIX_BYTES`, or `undefined` if fewer. */
export function headerLength(prefix: Uint8Array): number | undefined {
  if (prefix.byteLength < HEADER_PREFIX_BYTES) return undefined
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength)
  return HEADER_PREFIX_BYTES + view.getUint32(8) + CHECKSUM_BYTES
}

export function decodeHeader(bytes: Uint8Array, magic: Magic): HeaderRead {
  const end = headerLength(bytes)
  if (end === undefined || end > bytes.byteLength) return { kind: "torn" }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const checked = end - CHECKSUM_BYTES
  if (view.getUint32(checked) !== crc32(bytes.subarray(0, checked))) return { kind: "corrupt" }
  if (Buffer.from(bytes.subarray(0, 4)).toString("latin1") !== magic) return { kind: "corrupt" }
  const version = view.getUint32(4)
  if (version !== FORMAT_VERSION) return { kind: "unsupported", version }
  const docId = Buffer.from(bytes.subarray(HEADER_PREFIX_BYTES, checked)).toString("utf8")
  return { kind: "header", docId, end }
}

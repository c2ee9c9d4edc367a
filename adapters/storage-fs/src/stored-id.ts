import type { DocId } from "@tandem/repo"
import type { Disk } from "./disk.js"
import type { DocFiles } from "./doc-files.js"
import {
  decodeHeader,
  HEADER_PREFIX_BYTES,
  headerLength,
  LOG_MAGIC,
  type Magic,
  SNAPSHOT_MAGIC,
} from "./file-header.js"

/**
 * The id of the document whose files these are, read from the header of its snapshot or else of
 * its log; `undefined` if neither has an intact header (a log whose first write was cut short).
 */
export async function readStoredId(disk: Disk, files: DocFiles): Promise<DocId | undefined> {
  return (
    (await idInHeader(disk, files.snapshot, SNAPSHOT_MAGIC)) ?? (await idInHeader(disk, files.log, LOG_MAGIC))
  )
}

// Only the header is read: a log may be large.
async function idInHeader(disk: Disk, path: string, magic: Magic): Promise<DocId | undefined> {
  const prefix = await disk.readStart(path, HEADER_PREFIX_BYTES)
  const length = prefix && headerLength(prefix)
  if (length === undefined) return undefined
  const bytes = await disk.readStart(path, length)
  const header = bytes && decodeHeader(bytes, magic)
  return header?.kind === "header" ? header.docId : undefined
}

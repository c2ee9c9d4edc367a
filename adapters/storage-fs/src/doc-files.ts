import { createHash } from "node:crypto"
import { join } from "node:path"
import { type DocId, TandemError } from "@tandem/repo"

/** Where one document's files live in the documents directory. */
export interface DocFiles {
  log: string
  snapshot: string
  /** The next snapshot while it is being written; renamed over `snapshot` once it is durable. */
  snapshotTemp: string
}

const FILE_NAME = /^([0-9a-f]{64})\.(log|snapshot)$/
const LONE_SURROGATE = /\p{Surrogate}/u

/**
 * A document's files are named by the SHA-256 (hex) of its id in UTF-8: every id, however long
 * or hostile (`..`, `/`, NUL, `CON`, the empty string), becomes 64 characters that are safe on
 * every file system, and two ids never share a name. The id itself is kept in the files' headers.
 */
export function docKey(docId: DocId): string {
  // A lone surrogate has no UTF-8 form: two such ids would be stored under one name.
  if (LONE_SURROGATE.test(docId)) {
    throw new TandemError(
      "STORAGE_FAILED",
      `document id ${JSON.stringify(docId)} is not valid Unicode (it has a lone surrogate), so it cannot be stored; use well-formed strings as ids`,
      { docId },
    )
  }
  return createHash("sha256").update(docId, "utf8").digest("hex")
}

export function docFiles(docsDir: string, key: string): DocFiles {
  return {
    log: join(docsDir, `${key}.log`),
    snapshot: join(docsDir, `${key}.snapshot`),
    snapshotTemp: join(docsDir, `${key}.snapshot.tmp`),
  }
}

/** The keys of the documents that have a log or a snapshot among `names` (the directory's listing). */
export function storedKeys(names: string[]): Set<string> {
  const keys = new Set<string>()
  for (const name of names) {
    const key = FILE_NAME.exec(name)?.[1]
    if (key) keys.add(key)
  }
  return keys
}

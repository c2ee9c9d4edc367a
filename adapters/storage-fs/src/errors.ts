import { type DocId, TandemError } from "@tandem/repo"

/** The errors `load` reports instead of guessing: each names the document and what to do. */

export function corruptSnapshot(docId: DocId, reason: string): TandemError {
  return new TandemError(
    "STORAGE_FAILED",
    `snapshot of ${JSON.stringify(docId)} is corrupt: ${reason}; restore the file from a backup or remove the document`,
    { docId },
  )
}

export function unsupportedFormat(file: "log" | "snapshot", docId: DocId, version: number): TandemError {
  return new TandemError(
    "STORAGE_FAILED",
    `the ${file} of ${JSON.stringify(docId)} is in format version ${version}, which this version of @tandem/storage-fs cannot read; upgrade it`,
    { docId },
  )
}

export function belongsElsewhere(file: "log" | "snapshot", docId: DocId, storedId: DocId): TandemError {
  return new TandemError(
    "STORAGE_FAILED",
    `the ${file} file for ${JSON.stringify(docId)} holds ${JSON.stringify(storedId)}; was it copied or renamed by hand?`,
    { docId },
  )
}

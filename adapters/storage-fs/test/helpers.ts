import { createHash } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

const created: string[] = []

/** A fresh empty directory, removed by `removeTempDirs`. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-storage-fs-"))
  created.push(dir)
  return dir
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
}

export const bytes = (...values: number[]) => new Uint8Array(values)

/** Where the README's format says a document's files are. */
export function docPaths(dir: string, docId: string) {
  const key = createHash("sha256").update(docId, "utf8").digest("hex")
  return {
    log: join(dir, "docs", `${key}.log`),
    snapshot: join(dir, "docs", `${key}.snapshot`),
    snapshotTemp: join(dir, "docs", `${key}.snapshot.tmp`),
  }
}

/** A header's length by the README: magic, version, id length, id (UTF-8), checksum. */
export function headerBytes(docId: string): number {
  return 12 + Buffer.byteLength(docId, "utf8") + 4
}

/** A record's length by the README: length, checksum, payload. */
export function recordBytes(payload: Uint8Array): number {
  return 8 + payload.byteLength
}

export function flipBit(data: Uint8Array, offset: number): Uint8Array {
  const copy = Uint8Array.from(data) // not `slice`: on a Buffer it does not copy
  copy[offset] = (copy[offset] as number) ^ (1 << (offset % 8))
  return copy
}

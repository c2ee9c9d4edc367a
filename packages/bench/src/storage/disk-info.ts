import { execFileSync } from "node:child_process"
import { open } from "node:fs/promises"
import { join } from "node:path"
import { summarize } from "../stats.js"
import { withTempDir } from "./temp-dir.js"

export interface DiskInfo {
  /** What `df -T` says of the temp directory: device, file system, size. */
  device: string
  fsType: string
  sizeGiB: number
  /** A 64-byte write then fsync of the same file, median of 200 (ms). */
  fsyncMs: number
}

/** The file system the scenarios write to, and how fast it makes a small write durable. */
export async function describeDisk(tmp: string): Promise<DiskInfo> {
  let device = "unknown"
  let fsType = "unknown"
  let sizeGiB = Number.NaN
  try {
    const [, line = ""] = execFileSync("df", ["-T", "-k", tmp], { encoding: "utf8" }).trim().split("\n")
    const [dev = "unknown", type = "unknown", blocks = ""] = line.split(/\s+/)
    device = dev
    fsType = type
    sizeGiB = Number(blocks) / 2 ** 20
  } catch {
    // No df (not Unix): the device stays unknown.
  }
  const fsyncMs = await withTempDir(async (dir) => {
    const handle = await open(join(dir, "probe"), "w")
    const samples: number[] = []
    try {
      const data = new Uint8Array(64)
      for (let i = 0; i < 200; i++) {
        const started = performance.now()
        await handle.write(data, 0, data.byteLength, i * data.byteLength)
        await handle.sync()
        samples.push(performance.now() - started)
      }
    } finally {
      await handle.close()
    }
    return summarize(samples).median
  })
  return { device, fsType, sizeGiB, fsyncMs }
}

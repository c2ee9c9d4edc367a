import { readFileSync } from "node:fs"

/**
 * Bytes this process has had the kernel write to storage so far: `write_bytes` of
 * `/proc/self/io`, counted (for every thread of the process) as page-cache pages are dirtied,
 * 4 KiB at a time, so it is what reaches the disk, not what `write` was given. It leaves out
 * the file system's journal. `undefined` where there is no such file (not Linux).
 */
export function diskWriteBytes(): number | undefined {
  try {
    const line = readFileSync("/proc/self/io", "utf8")
      .split("\n")
      .find((l) => l.startsWith("write_bytes:"))
    return line === undefined ? undefined : Number(line.split(":")[1])
  } catch {
    return undefined
  }
}

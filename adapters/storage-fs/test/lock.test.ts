import { spawn, spawnSync } from "node:child_process"
import { once } from "node:events"
import { readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { FsStorage } from "@tandem/storage-fs"
import { afterAll, describe, expect, it } from "vitest"
import { bytes, removeTempDirs, tempDir } from "./helpers.js"

afterAll(removeTempDirs)

const lockOf = (dir: string) => join(dir, "LOCK")

/** The pid of a process that has exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ["-e", ""])
  if (!pid) throw new Error("could not start a short-lived process")
  return pid
}

describe("the directory lock", () => {
  it("refuses a second FsStorage in the same process while the first is open, and allows it after close", async () => {
    const dir = await tempDir()
    const first = await FsStorage.open({ dir })
    expect(await readFile(lockOf(dir), "utf8")).toBe(`${process.pid}\n`)
    await expect(FsStorage.open({ dir })).rejects.toThrow(
      `${dir} is already open by another FsStorage in this process`,
    )
    await first.append("doc", bytes(1))
    await first.close()
    await expect(stat(lockOf(dir))).rejects.toThrow(/ENOENT/)
    const second = await FsStorage.open({ dir })
    expect((await second.load("doc"))?.updates).toEqual([bytes(1)])
    await second.close()
  })

  it("lets only one of two FsStorages opened at once in the same process have the directory", async () => {
    const dir = await tempDir()
    const results = await Promise.allSettled([FsStorage.open({ dir }), FsStorage.open({ dir })])
    const opened = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []))
    expect(opened).toHaveLength(1)
    expect(results.find((result) => result.status === "rejected")?.reason).toEqual(
      expect.objectContaining({ message: expect.stringContaining("already open by another FsStorage") }),
    )
    await opened[0]?.close()
  })

  it("refuses a directory locked by another running process, and takes it over once that process is gone", async () => {
    const dir = await tempDir()
    const other = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"])
    const exited = once(other, "exit")
    try {
      await writeFile(lockOf(dir), `${other.pid}\n`)
      await expect(FsStorage.open({ dir })).rejects.toThrow(`${dir} is in use by process ${other.pid}`)
    } finally {
      other.kill()
      await exited
    }
    const storage = await FsStorage.open({ dir })
    expect(await readFile(lockOf(dir), "utf8")).toBe(`${process.pid}\n`)
    await storage.close()
  })

  it("takes over a stale lock whose process is gone", async () => {
    const dir = await tempDir()
    await writeFile(lockOf(dir), `${deadPid()}\n`)
    const storage = await FsStorage.open({ dir })
    expect(await readFile(lockOf(dir), "utf8")).toBe(`${process.pid}\n`)
    await storage.close()
  })

  it("takes over a stale lock that names this process's pid (a restart reused it) when nothing here holds it", async () => {
    const dir = await tempDir()
    await writeFile(lockOf(dir), `${process.pid}\n`)
    const storage = await FsStorage.open({ dir })
    await storage.append("doc", bytes(1))
    await storage.close()
  })

  it("refuses a lock file that names no process, and says which file to delete", async () => {
    const dir = await tempDir()
    await writeFile(lockOf(dir), "")
    await expect(FsStorage.open({ dir })).rejects.toThrow(`${lockOf(dir)}, which names no process`)
  })

  it("is released by close, which is safe to call twice, and the storage refuses work after it", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    await Promise.all([storage.close(), storage.close()])
    await storage.close()
    await expect(storage.append("doc", bytes(1))).rejects.toThrow(`the FsStorage of ${dir} is closed`)
    await expect(storage.load("doc")).rejects.toThrow("is closed")
    await expect(storage.list()).rejects.toThrow("is closed")
    const again = await FsStorage.open({ dir })
    await again.close()
  })
})

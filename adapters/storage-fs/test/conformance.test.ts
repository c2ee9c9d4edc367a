import type { StorageAdapter } from "@tandem/repo"
import { storageConformance } from "@tandem/repo/testing"
import { FsStorage } from "@tandem/storage-fs"
import { afterAll } from "vitest"
import { removeTempDirs, tempDir } from "./helpers.js"

const dirOf = new WeakMap<StorageAdapter, string>()

async function openIn(dir: string): Promise<FsStorage> {
  const storage = await FsStorage.open({ dir })
  dirOf.set(storage, dir)
  return storage
}

storageConformance("fs", async () => openIn(await tempDir()), {
  reopen: (previous) => {
    const dir = dirOf.get(previous)
    if (!dir) throw new Error("reopen was given a storage this test did not open")
    return openIn(dir)
  },
})

afterAll(removeTempDirs)
